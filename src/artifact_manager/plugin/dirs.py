"""The life of every dir the plugin hands out, in one place: claim, empty, keep, remove, reap.

Read top to bottom, for one session (``TestDirs``; every xdist worker has its own, sharing
the controller's session id and start time):

1. Session start, in the controller or a serial session: **reap** the configured tests root
   (``<data root>/<source>/<build>/<model>_eval/tests``): left-over dirs with no keep marker
   that no test holds, and dirs kept by sessions outside the retention window, are discarded
   (:func:`artifact_manager.storage.retention.reap`). Nothing is created. A tests root that
   is itself a symlink is never reaped (a warning says so), and no test claims a dir in it.
2. The first time a process claims a dir in a tests root, it **enters** that root: it holds
   the session's shared lock there until the process ends (the session is live there), and,
   for a tests root other than the configured one (a marker or factory keyword chose another
   layout), reaps it first.
3. Per test attempt (:class:`AttemptDirs`, made by the attempt's claim hook at its first claim):
   the first manager made for a test root **claims** it: the root's lock is taken (at most
   ``lock_timeout`` seconds; the error names the holder) and whatever is there is discarded.
   When the attempt ends the root is **kept** (a keep marker is written, then the lock is
   released) or **discarded** (renamed into the trash, deleted in the background).
4. Shared dirs (``artifact_manager_factory("name")``): **prepared** once per session under
   their lock: another session's contents are discarded and the dir is marked with this
   session's id; at session end the controller **keeps** (marker) or **discards** them.
5. A test that never reached its teardown: an xdist worker crash (the controller keeps or
   discards the crashed test's dir as for a failed test) or an interrupt (finished at
   session end as ``interrupted``: kept only by ``all``). A killed session leaves orphans;
   the next session's reaping removes them.

Every removal goes through :class:`~artifact_manager.storage.trash.Trash` (rename away now,
delete later): a dir is gone for everyone the moment it is discarded.

The locks, the retention rules and the trash are imported where they are first used, and the
trash is made at the first discard: most sessions start with no tests root to reap, and a
session whose tests claim no dir never loads them (``docs/performance.md``).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from artifact_manager.errors import ArtifactLockTimeout, ArtifactPathError
from artifact_manager.paths import lock_path_for, refuse_linked_tests_root
from artifact_manager.plugin.options import PluginSettings
from artifact_manager.sessions import SessionInfo
from artifact_manager.validation import validate_component

if TYPE_CHECKING:
    from artifact_manager.storage.locks import HeldLock
    from artifact_manager.storage.trash import Trash

__all__ = ["AttemptDirs", "TestDirs"]


def _real_dir(path: Path) -> bool:
    return os.path.isdir(path) and not os.path.islink(path)


def _lock(root: Path, timeout: float, owner: str) -> HeldLock:
    """Take ``root``'s lock (the locks are imported at the first one a session takes)."""
    from artifact_manager.storage.locks import acquire

    return acquire(lock_path_for(root), timeout=timeout, owner=owner)


class TestDirs:
    """Owns every dir of one session's process; see the module docs."""

    __test__ = False  # not a test class, whatever pytest's name rules say

    def __init__(
        self,
        settings: PluginSettings,
        session: SessionInfo,
        make_trash: Callable[[], Trash],
        *,
        reaps_at_start: bool,
    ) -> None:
        self.settings = settings
        self.session = session
        self._make_trash = make_trash
        self._trash: Trash | None = None
        self._reaps_at_start = reaps_at_start
        self._configured = Path(os.path.realpath(settings.tests_root))
        self._entered: dict[Path, HeldLock] = {}
        self._shared_names: set[str] = set()
        self._prepared: set[Path] = set()
        self._guard = threading.RLock()
        #: The dirs this process reaped.
        self.reaped: list[str] = []
        #: The shared dirs this process prepared (the controller finishes them all).
        self.shared_roots: set[str] = set()
        #: Warnings that ``-W error`` made errors (see :meth:`warn`), not yet reported.
        self.errors: list[str] = []

    def __repr__(self) -> str:
        return f"TestDirs(session={self.session.id!r}, tests_root={str(self._configured)!r})"

    def warn(self, problem: str) -> None:
        """Warn of a problem that does not stop the session (a ``PytestWarning``).

        Where warnings are errors (``-W error``, ``filterwarnings = error``) the raised
        warning is kept in :attr:`errors` instead of escaping a hook as an INTERNALERROR: the
        plugin makes it the error of the test it came up in (its teardown), or fails the
        session with it.
        """
        try:
            warnings.warn(pytest.PytestWarning(problem), stacklevel=2)
        except pytest.PytestWarning as error:
            with self._guard:
                self.errors.append(f"{type(error).__name__}: {error}")

    def take_errors(self) -> list[str]:
        """The warnings made errors since the last call (see :meth:`warn`)."""
        with self._guard:
            errors, self.errors = self.errors, []
        return errors

    # -- 1, 2: session start, entering a tests root ---------------------------------------

    def start_session(self) -> list[str]:
        """Reap the configured tests root (controller or serial session only). Returns the
        problems, for warnings: the tests root is a symlink (never followed, not reaped), or
        a left-over dir could not be removed (left in place; the rest is reaped)."""
        if not self._reaps_at_start:
            return []
        try:
            refuse_linked_tests_root(self.settings.tests_root)
        except ArtifactPathError as error:
            return [f"the tests root was not reaped: {error}"]
        return self._reap(self._configured)

    def _enter(self, tests_root: Path, *, reap: bool = True) -> None:
        with self._guard:
            if tests_root in self._entered:
                return
            from artifact_manager.storage.retention import hold_session

            self._entered[tests_root] = hold_session(tests_root, self.session.id)
            if reap and tests_root != self._configured:
                for problem in self._reap(tests_root):
                    self.warn(problem)

    def hold(self, shared_roots: Iterable[str]) -> None:
        """Controller: keep the session live where a worker's shared dirs are, before the
        worker exits (it holds its own session locks until then)."""
        for root in shared_roots:
            self._enter(Path(os.path.realpath(Path(root).parent)), reap=False)

    def _reap(self, tests_root: Path) -> list[str]:
        """Reap ``tests_root``; returns a message per left-over dir that could not be removed
        (it stays; reaping never stops the session)."""
        if not os.path.isdir(tests_root):
            return []  # nothing to reap (the common case: no test has used this layout yet)
        from artifact_manager.storage.retention import reap

        problems: list[str] = []

        def report(root: Path, error: OSError) -> None:
            problems.append(
                f"could not remove the left-over test artifact dir {str(root)!r}: {error}; "
                "it was left in place and every later session tries again: fix its "
                "permissions (or attributes) or remove it by hand"
            )

        reaped = reap(
            tests_root,
            session=self.session,
            retention_count=self.settings.retention_count,
            discard=self._discard,
            on_error=report,
        )
        self.reaped.extend(str(path) for path in reaped)
        return problems

    def _discard(self, path: Path) -> None:
        """Rename ``path`` into the session's trash (made now if this is its first discard)."""
        trash = self._trash
        if trash is None:
            with self._guard:
                if self._trash is None:
                    self._trash = self._make_trash()
                trash = self._trash
        trash.discard(path)

    def close_trash(self) -> list[str]:
        """Wait for the trash (if one was made) to delete what it holds; its errors."""
        return self._trash.close() if self._trash is not None else []

    # -- 3: per test attempt ----------------------------------------------------------------

    def attempt(self, nodeid: str) -> AttemptDirs:
        """The claim hook for one attempt of ``nodeid``."""
        return AttemptDirs(self, nodeid)

    def _claim(self, root: Path, owner: str) -> HeldLock:
        self._enter(root.parent)  # (a symlinked tests root: refused by the manager's claim)
        lock = _lock(root, self.settings.lock_timeout, owner)
        try:
            self._discard(root)  # a kept dir from an earlier run, or an earlier attempt's
        except BaseException:
            lock.release()
            raise
        return lock

    def _keep(self, root: Path, outcome: str, nodeid: str) -> bool:
        """Mark ``root`` kept; returns whether it is. A marker that cannot be written gives a
        warning and leaves the dir in place (never discarded): the session goes on."""
        if not _real_dir(root):
            return False
        from artifact_manager.storage.retention import KeepMarker

        try:
            KeepMarker.now(self.session, self.settings.keep, outcome, nodeid).write(root)
        except OSError as error:
            self.warn(
                f"could not mark test artifact dir {str(root)!r} as kept: {error}; it was "
                "left in place, but without its keep marker the next session may reap "
                "it: fix its permissions (or free space) and copy what you need first"
            )
            return False
        return True

    def discard(self, roots: Iterable[Path]) -> None:
        """Discard ``roots`` now; a root that cannot be removed gives a warning."""
        for root in roots:
            try:
                self._discard(root)
            except OSError as error:
                self.warn(
                    f"could not remove test artifact dir {str(root)!r}: {error}; "
                    "remove it by hand (nothing outside it was touched)"
                )

    # -- 4: shared dirs ---------------------------------------------------------------------

    def share(self, name: str) -> str:
        """Make ``name`` a shared dir name for this process (validated); returns it."""
        name = validate_component("test_name", name)
        with self._guard:
            self._shared_names.add(name)
        return name

    def is_shared(self, name: str) -> bool:
        return name in self._shared_names

    def prepare_shared(self, root: Path, name: str) -> None:
        """Make shared dir ``root`` this session's (once per process)."""
        with self._guard:
            if root in self._prepared:
                return
            from artifact_manager.storage.retention import read_shared_session, write_shared_session

            refuse_linked_tests_root(root.parent)
            self._enter(Path(os.path.realpath(root.parent)))
            with _lock(root, self.settings.lock_timeout, f"pytest preparing shared dir {name!r}"):
                if read_shared_session(root) != self.session.id:
                    self._discard(root)  # a previous session's leftovers
                    root.mkdir(parents=True)
                    write_shared_session(root, self.session.id)
            self._prepared.add(root)
            self.shared_roots.add(str(root))

    def finish_shared(self, roots: Collection[str], *, any_failed: bool) -> None:
        """At session end (controller or serial session): keep or discard the shared dirs."""
        if not roots:
            return
        from artifact_manager.storage.retention import read_shared_session

        keep = self.settings.keeps(any_failed)
        for raw in sorted(roots):
            root = Path(raw)
            try:
                with _lock(root, 0, "finishing a shared dir"):
                    if read_shared_session(root) != self.session.id:
                        continue  # another session has taken it over meanwhile
                    if keep:
                        self._keep(root, "shared", f"artifact_manager_factory({root.name!r})")
                    else:
                        self.discard([root])
            except ArtifactLockTimeout:
                continue  # another session is preparing it: theirs now

    # -- 5: tests that never reached their teardown -------------------------------------------

    def finish_crashed(self, root: Path, nodeid: str) -> bool:
        """The test ``nodeid`` crashed its xdist worker: keep its dir as a failed test's, or
        discard it. Returns whether it was kept. A dir another session has kept since (its
        keep marker names that session) is left alone."""
        if not os.path.lexists(root) or os.path.islink(root.parent):
            return False  # nothing there, or nothing claimed there (a symlinked tests root)
        try:
            lock = _lock(root, 0, "finishing a crashed test")
        except ArtifactLockTimeout:
            return False  # held: a rerun of it has started already
        with lock:
            from artifact_manager.storage.retention import KeepMarker

            marker = KeepMarker.read(root)
            if marker is not None and marker.session_id != self.session.id:
                # Kept by another session (it ran the test again after the crash, or the
                # worker died before claiming the dir): that session's, retention decides.
                return False
            if self.settings.keeps(True):
                return self._keep(root, "crashed", nodeid)
            self.discard([root])
            return False

    # -- end ------------------------------------------------------------------------------

    def close(self) -> None:
        """Leave every tests root entered: the session is no longer live here."""
        with self._guard:
            entered, self._entered = self._entered, {}
        for lock in entered.values():
            lock.release()


class AttemptDirs:
    """The dirs of one test attempt: the :class:`~artifact_manager.testmode.RootClaimer` its
    forced test mode calls. Holds the lock of each root it claimed until :meth:`finish`."""

    def __init__(self, dirs: TestDirs, nodeid: str) -> None:
        self._dirs = dirs
        self._nodeid = nodeid
        self._locks: list[HeldLock] = []

    def is_shared(self, test_name: str) -> bool:
        return self._dirs.is_shared(test_name)

    def claim(self, root: Path) -> None:
        self._locks.append(self._dirs._claim(root, f"pytest running {self._nodeid}"))

    def finish(self, roots: list[Path], *, keep: bool, outcome: str) -> None:
        """Keep (mark) or discard ``roots``, then release their locks."""
        try:
            if keep:
                for root in roots:
                    self._dirs._keep(root, outcome, self._nodeid)
            else:
                self._dirs.discard(roots)
        finally:
            self.release()

    def release(self) -> None:
        locks, self._locks = self._locks, []
        for lock in locks:
            lock.release()
