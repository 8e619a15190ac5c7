"""Layer 3: after-the-fact detection of changes the process could not intercept.

Subprocesses, native code, ``os.open(name, dir_fd=...)`` and handles opened before arming
write without an audit event. A watcher sees what they changed in the protected trees:

- :class:`InotifyWatcher` (Linux): one watch per protected dir, set up once per session
  (~13 us a dir); reading what happened since the last look costs one non-blocking read, so
  the per-test cost does not grow with the production tree. It misses writes through hard
  links made elsewhere and changes in a dir in the instant between its creation and its watch.
- :class:`TreeDiffWatcher` (elsewhere, or when inotify runs out of watches): a snapshot of
  (size, mtime_ns, inode, mode, ctime_ns) per entry, compared after each test; ~3 us an
  entry per look, so it does grow with the tree.

Both report :class:`Change` values; the plugin decides whom to blame.
"""

from __future__ import annotations

import errno
import os
import select
import stat
import struct
import sys
import threading
from collections.abc import Callable
from typing import NamedTuple

from artifact_manager.paths import is_under

__all__ = ["Change", "InotifyWatcher", "TreeDiffWatcher", "Watcher", "make_watcher"]


class Change(NamedTuple):
    """Something changed at ``path``: created, modified, deleted, moved, attributes."""

    path: str
    kind: str


IsProtected = Callable[[str, str], bool]  # (real path, operation) -> protected?


class Watcher:
    """Interface: ``changes()`` returns what changed since the previous call; ``cheap`` says
    whether asking costs next to nothing (then the plugin asks after every phase of a test)."""

    kind = "none"
    cheap = True

    def changes(self) -> list[Change]:
        return []

    def pending(self) -> bool:
        """Whether :meth:`changes` may have something to say (False: it would return ``[]``).
        Asked after every phase of every test, so it costs next to nothing where it can."""
        return False

    def close(self) -> None:
        pass


# -- inotify -------------------------------------------------------------------------------

_IN_MODIFY = 0x2
_IN_ATTRIB = 0x4
_IN_CLOSE_WRITE = 0x8
_IN_MOVED_FROM = 0x40
_IN_MOVED_TO = 0x80
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_IN_Q_OVERFLOW = 0x4000
_IN_IGNORED = 0x8000
_IN_ONLYDIR = 0x1000000
_IN_MASK_ADD = 0x20000000
_IN_DONT_FOLLOW = 0x2000000
_IN_ISDIR = 0x40000000
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
_MASK = (
    _IN_MODIFY
    | _IN_ATTRIB
    | _IN_CLOSE_WRITE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
)
#: An ancestor watched only to see a missing root appear: entries created or moved in. Not
#: its files' writes: the ancestor may be busy (the system temp dir, where pytest's output
#: capture writes its files every phase), and each event costs the per-phase look a read.
#: Added to whatever mask the dir already has (it may be a protected dir of another root).
_APPEAR_MASK = _IN_CREATE | _IN_MOVED_TO | _IN_MASK_ADD
_EVENT = struct.Struct("iIII")
_KINDS = (
    (_IN_CREATE | _IN_MOVED_TO, "created"),
    (_IN_DELETE | _IN_MOVED_FROM, "deleted"),
    (_IN_MODIFY | _IN_CLOSE_WRITE, "modified"),
    (_IN_ATTRIB, "attributes changed"),
)


class WatcherUnavailable(OSError):
    """inotify cannot be used here (not Linux, no libc, or out of watches)."""


class InotifyWatcher(Watcher):
    kind = "inotify"

    def __init__(self, roots: list[str], is_protected: IsProtected) -> None:
        if not sys.platform.startswith("linux"):
            raise WatcherUnavailable("inotify exists only on Linux")
        import ctypes  # only here: a session with the guard off never loads it

        # The process's own symbols (libc is among them): ctypes.util.find_library would
        # run ldconfig in a subprocess at every session start.
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._get_errno = ctypes.get_errno
        fd = self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            raise WatcherUnavailable(ctypes.get_errno(), "inotify_init1 failed")
        self._fd = fd
        self._ready = select.poll()  # asking costs one poll(0): no exception when nothing came
        self._ready.register(fd, select.POLLIN)
        self._dirs: dict[int, str] = {}
        self._is_protected = is_protected
        self._roots = roots
        try:
            for root in roots:
                self._watch_tree(root)
        except BaseException:
            self.close()
            raise

    def _add(self, path: str, mask: int = _MASK) -> None:
        wd = self._libc.inotify_add_watch(
            self._fd, os.fsencode(path), mask | _IN_ONLYDIR | _IN_DONT_FOLLOW
        )
        if wd < 0:
            code = self._get_errno()
            if code == errno.ENOSPC:
                raise WatcherUnavailable(
                    code, "out of inotify watches (fs.inotify.max_user_watches)"
                )
            return  # vanished, or not a dir: nothing to watch
        self._dirs[wd] = path

    def _watch_tree(self, root: str) -> None:
        """Watch ``root`` and every protected dir below it; for a missing root, its nearest
        existing ancestor (to see it being created)."""
        if not os.path.isdir(root):
            parent = os.path.dirname(root)
            if parent == root:
                return
            if os.path.isdir(parent):
                self._add(parent, _APPEAR_MASK)  # to see ``root`` appear
            else:
                self._watch_tree(parent)
            return
        for dirpath, dirnames, _files in os.walk(root, followlinks=False):
            if not self._is_protected(dirpath, "watch"):
                dirnames[:] = []
                continue
            self._add(dirpath)

    def _under_roots(self, path: str) -> bool:
        return any(is_under(path, root) for root in self._roots)

    def pending(self) -> bool:
        return bool(self._ready.poll(0))  # one poll(0): events queued?

    def changes(self) -> list[Change]:
        if not self._ready.poll(0):
            return []
        found: list[Change] = []
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            offset = 0
            while offset < len(data):
                wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                offset += _EVENT.size
                name = data[offset : offset + length].rstrip(b"\0")
                offset += length
                if mask & _IN_Q_OVERFLOW:
                    found.append(
                        Change("<inotify queue overflowed: some changes unlisted>", "unknown")
                    )
                    continue
                if mask & _IN_IGNORED:
                    self._dirs.pop(wd, None)
                    continue
                base = self._dirs.get(wd)
                if base is None:
                    continue
                path = os.path.join(base, os.fsdecode(name)) if name else base
                found.extend(self._interpret(path, mask))
        return merge(found)

    def _interpret(self, path: str, mask: int) -> list[Change]:
        if not self._under_roots(path):
            # An ancestor watched for the root's creation: watch the root once it is there.
            appeared = mask & (_IN_CREATE | _IN_MOVED_TO)
            if appeared and any(is_under(root, path) for root in self._roots):
                for root in self._roots:
                    self._watch_tree(root)
            return []
        is_dir = bool(mask & _IN_ISDIR)
        if is_dir and mask & (_IN_CREATE | _IN_MOVED_TO) and self._is_protected(path, "watch"):
            self._watch_tree(path)
        operation = "mkdir" if is_dir and mask & _IN_CREATE else "write"
        if mask & (_IN_DELETE_SELF | _IN_MOVE_SELF) or not self._is_protected(path, operation):
            return []
        for bits, kind in _KINDS:
            if mask & bits:
                return [Change(path, kind)]
        return []

    def close(self) -> None:
        fd = getattr(self, "_fd", -1)
        if fd >= 0:
            self._fd = -1
            self._ready.unregister(fd)
            # Closing an inotify fd waits for the kernel to drop every watch (~10-20 ms here,
            # whatever the count); nobody needs to wait for that.
            threading.Thread(target=os.close, args=(fd,), name="inotify-close", daemon=True).start()


_RANK = {"created": 0, "deleted": 1, "modified": 2, "attributes changed": 3}


def merge(changes: list[Change]) -> list[Change]:
    """One change per path, in first-seen order; "created" wins over "modified" and so on."""
    best: dict[str, Change] = {}
    for change in changes:
        seen = best.get(change.path)
        if seen is None or _RANK.get(change.kind, 9) < _RANK.get(seen.kind, 9):
            best[change.path] = change
    return list(best.values())


# -- tree diff -------------------------------------------------------------------------------


def _snapshot(roots: list[str], is_protected: IsProtected) -> dict[str, tuple[int, ...]]:
    entries: dict[str, tuple[int, ...]] = {}
    for root in roots:
        if not os.path.isdir(root):
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            if not is_protected(dirpath, "watch"):
                dirnames[:] = []
                continue
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode) and not is_protected(path, "watch"):
                    continue
                entries[path] = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode, st.st_ctime_ns)
    return entries


class TreeDiffWatcher(Watcher):
    kind = "tree diff"
    cheap = False  # a walk of the protected trees per look

    def __init__(self, roots: list[str], is_protected: IsProtected) -> None:
        self._roots = roots
        self._is_protected = is_protected
        self._last = _snapshot(roots, is_protected)

    def pending(self) -> bool:
        return True  # only a walk can tell

    def changes(self) -> list[Change]:
        now = _snapshot(self._roots, self._is_protected)
        before, self._last = self._last, now
        found = [Change(p, "created") for p in now.keys() - before.keys()]
        found += [Change(p, "deleted") for p in before.keys() - now.keys()]
        found += [Change(p, "modified") for p in now.keys() & before.keys() if now[p] != before[p]]
        return sorted(found, key=lambda c: c.path)


def make_watcher(roots: list[str], is_protected: IsProtected) -> Watcher:
    """inotify where it works, else a tree diff."""
    try:
        return InotifyWatcher(roots, is_protected)
    except (WatcherUnavailable, OSError, AttributeError):
        return TreeDiffWatcher(roots, is_protected)
