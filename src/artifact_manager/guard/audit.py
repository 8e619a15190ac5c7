"""Layer 1: a PEP 578 audit hook that stops in-process writes to protected paths.

The hook is installed once per process (a hook cannot be removed) and does nothing while
disarmed. Armed, it looks only at the events that change the file system (a dict lookup
for every other event), resolves the path they name (``realpath`` of the parent plus the
name; fds and ``dir_fd`` through ``/proc/self/fd``), asks the :class:`GuardPolicy`, and for a
protected path records a :class:`Violation` and raises :class:`ProductionWriteError` before
the operation happens.

Every violation is recorded before it is raised, so a test that swallows the exception (or
whose write ran in a thread) still fails: the plugin reads the record.

The armed state is this module's one global: it must be visible to the hook, which cannot
be given any other context.
"""

from __future__ import annotations

import os
import stat
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from artifact_manager.guard.policy import GuardPolicy, as_path, fd_path
from artifact_manager.guard.resolution import Resolver

if TYPE_CHECKING:
    from artifact_manager.violations import Violation

__all__ = [
    "Checker",
    "active_checker",
    "arm",
    "armed",
    "disarm",
    "ignore_this_thread",
    "install",
    "sqlite_file",
]

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


class Checker:
    """Checks each change the armed hook (and the layer-2 wrappers) see against the policy,
    attributes it to the running test, phase and fixture, and records what it stopped."""

    def __init__(
        self,
        policy: GuardPolicy,
        *,
        locate_fixture: Callable[[], tuple[str, str]] | None = None,
    ) -> None:
        self.policy = policy
        self.test = "<no test>"
        self.phase = "setup"
        #: Asked when a violation is recorded (in the thread that made the change): the
        #: fixture being set up or torn down, as (``'name' (scope-scoped)``, ``"setup"`` or
        #: ``"teardown"``), or ``("", "")``. The plugin looks for it on the stack, so nothing
        #: runs around each fixture.
        self.locate_fixture = locate_fixture
        self.violations: list[Violation] = []
        self.resolver = Resolver()
        self._lock = threading.Lock()
        #: The thread that runs the tests (made where the session starts, as pytest does):
        #: a violation from any other is said to come from that thread, by name.
        self.test_thread = threading.get_ident()
        #: Where each ``threading.Thread`` started while armed was started (``in the call of
        #: <test>``), from the audit event Python 3.12+ raises as a thread starts; a thread
        #: another thread started inherits that one's. Only said, never blamed: a pool's
        #: thread started in one test may well be working for the next.
        self.thread_origins: weakref.WeakKeyDictionary[threading.Thread, str] = (
            weakref.WeakKeyDictionary()
        )

    def enter(self, test: str, phase: str) -> None:
        """Attribute what follows to ``phase`` of ``test``; resolved dirs are checked again
        before they are trusted (see :mod:`~artifact_manager.guard.resolution`)."""
        self.test = test
        self.phase = phase
        self.resolver.new_phase()

    def thread_starting(self, thread: threading.Thread) -> None:
        """Note where ``thread`` (about to start) is being started."""
        if threading.get_ident() == self.test_thread:
            origin = self._where()
        else:
            origin = self.thread_origins.get(threading.current_thread(), "")
        if origin:
            self.thread_origins[thread] = origin

    def check(
        self,
        path: str,
        operation: str,
        layer: str = "prevented",
        op: str = "write",
        *,
        follow: bool = True,
    ) -> None:
        """Raise (after recording) if ``operation`` on ``path`` changes production.

        ``op``: ``"write"``, or ``"mkdir"`` (may create the dirs leading to a ``tests/`` tree;
        an existing dir is no change: mkdir fails with EEXIST, as ``makedirs(exist_ok=True)``
        expects).

        ``follow``: the operation goes through a symlink at ``path`` itself (open, truncate,
        chmod, a library's writer), so where the link leads is checked too; an entry
        operation (remove, rename, mkdir, a link's destination) acts on the link and passes
        ``False``. A dangling link is judged where the write would create its target.
        """
        __tracebackhide__ = True  # the failure points at the user's line, not the guard's
        real = self.resolver.entry(path)
        if not self.policy.is_protected(real, op):
            target = _final_target(real) if follow else None
            if target is None or not self.policy.is_protected(target, op):
                return
            real = target
        if op == "mkdir" and os.path.isdir(path):
            return
        # A dataclass, made when the first violation is (not at every session's start).
        from artifact_manager.violations import Violation

        fixture, fixture_phase = self.locate_fixture() if self.locate_fixture else ("", "")
        thread = origin = ""
        if threading.get_ident() != self.test_thread:
            thread = _thread_name()
            origin = self.thread_origins.get(threading.current_thread(), "")
            if origin == self._where():
                origin = ""  # started where it wrote: nothing to add
        violation = Violation(
            self.test, self.phase, real, operation, layer, fixture, fixture_phase, thread, origin
        )
        with self._lock:
            self.violations.append(violation)
        raise violation.error()

    def _where(self) -> str:
        """``in the call of <test>``; empty between tests."""
        from artifact_manager.violations import PHASES, in_phase

        return in_phase(self.phase, self.test) if self.phase in PHASES else ""

    def take(self, test: str | None = None, phase: str | None = None) -> list[Violation]:
        """Remove and return the violations of ``test``/``phase`` (all when None)."""
        taken: list[Violation] = []
        kept: list[Violation] = []
        with self._lock:
            for v in self.violations:
                matches = (test is None or v.test == test) and (phase is None or v.phase == phase)
                (taken if matches else kept).append(v)
            self.violations = kept
        return taken


def _thread_name() -> str:
    """The name of the thread running now (``Thread-3 (writer)``)."""
    return threading.current_thread().name


def _final_target(entry: str) -> str | None:
    """Where a symlink at ``entry`` (a real entry) leads, or None if it is no symlink."""
    try:
        is_link = stat.S_ISLNK(os.lstat(entry).st_mode)
    except (OSError, ValueError):
        return None
    return os.path.realpath(entry) if is_link else None


_armed: Checker | None = None
_installed = False
_busy = threading.local()


def active_checker() -> Checker | None:
    return _armed


def arm(guard: Checker) -> None:
    global _armed
    if not _installed:
        install()
    _armed = guard


def disarm() -> None:
    global _armed
    _armed = None


@contextmanager
def armed(guard: Checker) -> Iterator[Checker]:
    previous = _armed
    arm(guard)
    try:
        yield guard
    finally:
        if previous is None:
            disarm()
        else:
            arm(previous)


def ignore_this_thread() -> None:
    """The hook skips every event of the calling thread from now on: for the plugin's own
    worker threads (the trash, which deletes only what was renamed into its bins), whose
    work belongs to no test and must not be charged to the one running."""
    _busy.on = True


def install() -> None:
    """Install the hook (once per process)."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


def _hook(event: str, args: tuple[Any, ...]) -> None:
    # Called for every audited event of the process (pytest alone raises ~20 per test), so
    # the common case, an event that changes no file, is decided by one membership test.
    if event not in _HANDLERS:
        return
    guard = _armed
    if guard is None:
        return
    if event == "open" and not args[2] & _WRITE_FLAGS:
        return  # the common case, a read: decided before anything else
    if getattr(_busy, "on", False):
        return
    _busy.on = True
    __tracebackhide__ = True
    try:
        _HANDLERS[event](guard, args)
    finally:
        _busy.on = False


# -- resolving the paths events name -------------------------------------------------------


def _resolve(target: object, dir_fd: object = None) -> str | None:
    if isinstance(target, int) and not isinstance(target, bool):
        return fd_path(target)
    path = as_path(target)
    if path is None:
        return None
    if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(path):
        base = fd_path(dir_fd)
        if base is None:
            return None
        return os.path.join(base, path)
    return path


def _checker(
    operation: str,
    index: int = 0,
    dir_fd: int | None = None,
    op: str = "write",
    *,
    relinks: bool = False,
    follow: bool = True,
) -> Callable[[Checker, tuple[Any, ...]], None]:
    """A handler checking argument ``index`` (relative to argument ``dir_fd``, if any).

    ``relinks``: the operation can change where paths lead (it removes or replaces an
    entry), so the resolver forgets what it knew once the check passed. ``follow``: see
    :meth:`Checker.check` (False for the operations on an entry itself).
    """

    def check(guard: Checker, args: tuple[Any, ...]) -> None:
        __tracebackhide__ = True
        fd = args[dir_fd] if dir_fd is not None and len(args) > dir_fd else None
        path = _resolve(args[index], fd)
        if path is not None:
            guard.check(path, operation, op=op, follow=follow)
        if relinks:
            guard.resolver.forget()

    return check


def _open(guard: Checker, args: tuple[Any, ...]) -> None:
    __tracebackhide__ = True
    path = _resolve(args[0])  # a write: _hook already looked at the flags
    if path is not None:
        guard.check(path, "open for writing")


def _rename(guard: Checker, args: tuple[Any, ...]) -> None:
    __tracebackhide__ = True
    src, dst, src_dir_fd, dst_dir_fd = args
    for target, fd, operation in (
        (src, src_dir_fd, "rename out of"),
        (dst, dst_dir_fd, "rename into"),
    ):
        path = _resolve(target, fd)
        if path is not None:
            guard.check(path, operation, follow=False)
    guard.resolver.forget()


def _link(guard: Checker, args: tuple[Any, ...]) -> None:
    """``os.link(src, dst)``: a hard link to a protected file is a second name through which
    it can be written, which no watcher of the protected tree sees; so it is refused."""
    __tracebackhide__ = True
    src, dst, src_dir_fd, dst_dir_fd = args
    for target, fd, operation, follow in (
        (src, src_dir_fd, "hard-link a protected file (a second name to write it by)", True),
        (dst, dst_dir_fd, "hard-link into", False),
    ):
        path = _resolve(target, fd)
        if path is not None:
            guard.check(path, operation, follow=follow)


def _thread_start(guard: Checker, args: tuple[Any, ...]) -> None:
    """``threading.Thread.start`` (Python 3.12+): the thread's ``_bootstrap`` is the function
    started; where the thread was started is noted, to be named if it writes."""
    thread = getattr(args[0], "__self__", None) if args else None
    if isinstance(thread, threading.Thread):
        guard.thread_starting(thread)


def _spawn(guard: Checker, args: tuple[Any, ...]) -> None:
    """A child process may change where paths lead (``ln -s``): forget what was learnt."""
    guard.resolver.forget()


def _move(guard: Checker, args: tuple[Any, ...]) -> None:
    __tracebackhide__ = True
    src, dst = args[0], args[1]
    for target, operation in ((src, "move out of"), (dst, "move into")):
        path = _resolve(target)
        if path is not None:
            guard.check(path, operation, follow=False)
    guard.resolver.forget()


def sqlite_file(database: str) -> str | None:
    """The file sqlite may write for ``database`` as ``sqlite3.connect`` and ``ATTACH`` take
    it (a path or a ``file:`` URI), or None: in memory (``:memory:``, ``mode=memory``), a
    temporary database (``""``), read-only (``mode=ro``)."""
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        parts = urlsplit(database)
        mode = parse_qs(parts.query).get("mode", [""])[0]
        if mode in ("ro", "memory") or parts.path in ("", ":memory:"):
            return None
        return unquote(parts.path)  # as sqlite reads it: file:/d%61ta is /data
    return database


def _sqlite(guard: Checker, args: tuple[Any, ...]) -> None:
    __tracebackhide__ = True
    database = as_path(args[0]) if args else None
    target = sqlite_file(database) if database else None
    if target is not None:
        guard.check(target, "open a sqlite database for writing")


def _mmap(guard: Checker, args: tuple[Any, ...]) -> None:
    __tracebackhide__ = True
    import mmap

    fileno, _length, access = args[0], args[1], args[2]
    if not isinstance(fileno, int) or fileno < 0 or access in (mmap.ACCESS_READ, mmap.ACCESS_COPY):
        return  # ACCESS_COPY maps privately: the file is never written
    path = fd_path(fileno)
    if path is not None:
        guard.check(path, "map for writing")


_HANDLERS: dict[str, Callable[[Checker, tuple[Any, ...]], None]] = {
    "open": _open,
    "os.mkdir": _checker("create a dir at", 0, 2, op="mkdir", follow=False),
    "os.rename": _rename,
    "os.remove": _checker("delete", 0, 1, relinks=True, follow=False),
    "os.rmdir": _checker("remove the dir", 0, 1, relinks=True, follow=False),
    "os.symlink": _checker("create a symlink at", 1, 2, relinks=True, follow=False),
    "os.link": _link,
    "os.truncate": _checker("truncate"),
    "os.chmod": _checker("chmod", 0, 2),
    "os.chown": _checker("chown", 0, 3),
    "os.utime": _checker("touch (utime)", 0, 3),
    "shutil.copyfile": _checker("copy into", 1),
    "shutil.copytree": _checker("copy a tree into", 1, follow=False),
    "shutil.move": _move,
    "shutil.rmtree": _checker("remove the tree", 0, 1, relinks=True, follow=False),
    "tempfile.mkstemp": _checker("create a temp file at", follow=False),  # O_EXCL
    "tempfile.mkdtemp": _checker("create a temp dir at", op="mkdir", follow=False),
    "sqlite3.connect": _sqlite,
    "mmap.__new__": _mmap,
    "os.setxattr": _checker("set an extended attribute on"),
    "os.removexattr": _checker("remove an extended attribute of"),
    "_thread.start_new_thread": _thread_start,  # Python 3.12
    "_thread.start_joinable_thread": _thread_start,  # Python 3.13+
    "subprocess.Popen": _spawn,
    "os.system": _spawn,
    "os.posix_spawn": _spawn,
    "os.spawn": _spawn,
    "os.exec": _spawn,
    "os.fork": _spawn,
}
