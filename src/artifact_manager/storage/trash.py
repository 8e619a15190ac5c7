"""Deferred removal: a dir loses its name at once (one rename) and is deleted off the
critical path.

Removing a test's dir where the test ends costs one metadata syscall per entry, and on some
file systems ``rmdir`` is the single largest cost of a whole test run. pytest itself moves
dirs to a garbage name and deletes them later; :class:`Trash` does the same:

- :meth:`Trash.discard` renames a path into a *bin*, ``<parent>/.artifacts.trash/<bin>/``,
  beside it (same dir tree, so same file system: the rename is atomic). From then on the
  path is gone for everyone who looks it up by name.
- A background thread deletes what is in the bins (symlink-safe, as
  :func:`~artifact_manager.storage.cleanup.remove_tree`): in batches, once ``backlog`` paths
  are waiting, and the rest when :meth:`Trash.close` runs (it waits for the thread). Deleting
  while the tests run costs them more than deleting at the end: the thread and the tests take
  turns on one interpreter lock, and dirs deleted right after their creation cost the file
  system more (``docs/performance.md``). pytest's ``tmp_path`` keeps every dir of its last
  three runs; a trash holds at most ``backlog`` discarded paths until the end, and none while
  the file system runs short of free space (tests with large artifacts get it back at once).
- Each bin is locked by the process filling it. A bin whose lock is free belongs to a process
  that died before emptying it (SIGKILL, a crashed xdist worker): the first trash opened
  beside it later empties it too.

Anything that cannot be renamed (a path on another file system, a read-only parent) is
removed in place, synchronously, as before. So is anything beside a ``.artifacts.trash``
that is not a real dir (a symlink planted there, a file): a trash dir is never followed,
its target's dirs are neither used as bins nor emptied as a dead process's.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import queue
import stat
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from artifact_manager.errors import ArtifactLockTimeout
from artifact_manager.paths import INTERNAL_PREFIX
from artifact_manager.storage.locks import HeldLock, acquire

__all__ = ["DEFAULT_BACKLOG", "TRASH_DIRNAME", "Trash", "empty_stale_bins"]

#: The dir of bins, beside the dirs discarded into it.
TRASH_DIRNAME = INTERNAL_PREFIX + "trash"
_LOCK_SUFFIX = ".lock"
#: Discarded paths a trash keeps before its thread starts deleting them.
DEFAULT_BACKLOG = 1000
#: A trash deletes at once, backlog or not, while its file system has less free space than
#: this share of its size ...
LOW_SPACE_SHARE = 0.10
#: ... or than this many bytes: tests that write large artifacts never wait for the end of
#: the session to get their space back when space runs short.
LOW_SPACE_BYTES = 2 * 1024**3


def empty_stale_bins(trash_dir: Path) -> list[Path]:
    """Delete the bins in ``trash_dir`` that no live process holds; returns them.

    Never waits: a bin whose lock is held belongs to a running process and is left alone.
    A ``trash_dir`` that is not a real dir (a symlink planted there) is left alone, not
    followed: nothing is deleted.
    """
    try:
        if not stat.S_ISDIR(os.lstat(trash_dir).st_mode):
            return []  # a symlink (or a file): its target is not ours to empty
        entries = [e for e in os.scandir(trash_dir) if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []
    from artifact_manager.storage.cleanup import remove_tree  # once there is a trash dir

    emptied = []
    for entry in entries:
        lock_path = trash_dir / (entry.name + _LOCK_SUFFIX)
        try:
            with acquire(lock_path, timeout=0, owner="emptying a dead process's trash"):
                remove_tree(Path(entry.path))
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(lock_path)
        except ArtifactLockTimeout:
            continue
        emptied.append(Path(entry.path))
    return emptied


def _make_real_dir(trash_dir: Path) -> None:
    """Make ``trash_dir`` if it is missing; raise :class:`OSError` if it is not a real dir
    (a symlink is never followed: ``discard`` then removes the path in place)."""
    try:
        os.mkdir(trash_dir)
        return
    except FileExistsError:
        pass
    if not stat.S_ISDIR(os.lstat(trash_dir).st_mode):
        raise NotADirectoryError(
            errno.ENOTDIR,
            "the trash dir is a symlink or not a dir (not followed); remove it",
            str(trash_dir),
        )


class Trash:
    """The bins of one process and the thread that empties them.

    ``owner`` is written into each bin's lock (who to blame for a bin that is never emptied).
    ``on_thread_start`` is called first in the thread that empties the bins (the plugin
    tells its guard to leave that thread alone). ``backlog``: discarded paths kept before
    the thread deletes them (``0``: at once); they are deleted at once anyway while the file
    system has less than ``low_space`` bytes free (default: the larger of
    :data:`LOW_SPACE_SHARE` of its size and :data:`LOW_SPACE_BYTES`). Not fork-safe: a child
    process makes its own.
    """

    def __init__(
        self,
        owner: str,
        on_thread_start: Callable[[], None] | None = None,
        backlog: int = DEFAULT_BACKLOG,
        low_space: int | None = None,
    ) -> None:
        self._owner = owner
        self._on_thread_start = on_thread_start
        self._backlog = backlog
        self._low_space = low_space
        self._pending: list[Path] = []
        self._bins: dict[Path, tuple[Path, HeldLock]] = {}  # trash dir -> own bin, its lock
        self._names = itertools.count()
        self._queue: queue.SimpleQueue[Path | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self.errors: list[str] = []

    def discard(self, path: Path) -> None:
        """Take ``path`` (dir, file or symlink) away from its name now; delete it later.

        Nothing is followed: a symlink is moved (and then removed) as a link.
        """
        if not os.path.lexists(path):
            return
        try:
            target = self._bin_for(path.parent) / f"{next(self._names)}-{path.name}"
            os.rename(path, target)
        except FileNotFoundError:
            return  # gone meanwhile
        except OSError:
            from artifact_manager.storage.cleanup import remove_tree

            remove_tree(path)  # cannot be moved aside: remove it where it is
            return
        short = self._space_is_short(target.parent)
        with self._guard:
            self._pending.append(target)
            if len(self._pending) < self._backlog and not short:
                return
            batch, self._pending = self._pending, []
        for item in batch:
            self._queue.put(item)

    def _space_is_short(self, bin_dir: Path) -> bool:
        """Whether the bin's file system has less free space than the threshold (one
        ``statvfs``, ~2 us)."""
        try:
            info = os.statvfs(bin_dir)
        except (OSError, AttributeError):  # no statvfs (Windows): go by the backlog alone
            return False
        floor = self._low_space
        if floor is None:
            floor = max(int(info.f_blocks * info.f_frsize * LOW_SPACE_SHARE), LOW_SPACE_BYTES)
        return info.f_bavail * info.f_frsize < floor

    def close(self) -> list[str]:
        """Wait until everything discarded is deleted and release the bins.

        Returns the errors met on the way (each names the path and the remedy); a bin that
        could not be emptied stays locked until this process exits, and the next trash
        opened beside it tries again.
        """
        with self._guard:
            thread, self._thread = self._thread, None
            bins, self._bins = self._bins, {}
            pending, self._pending = self._pending, []
        for item in pending:
            self._queue.put(item)
        if thread is not None:
            self._queue.put(None)
            thread.join()
        for bin_dir, lock in bins.values():
            try:
                bin_dir.rmdir()
                os.unlink(str(bin_dir) + _LOCK_SUFFIX)
            except OSError as error:
                self.errors.append(
                    f"could not empty the trash {str(bin_dir)!r}: {error}; the next session "
                    "empties it, or remove it by hand"
                )
            lock.release()
        return self.errors

    def _bin_for(self, parent: Path) -> Path:
        trash_dir = parent / TRASH_DIRNAME
        with self._guard:
            if trash_dir in self._bins:
                return self._bins[trash_dir][0]
            _make_real_dir(trash_dir)  # before the lock: its path must not lead through a link
            name = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
            lock = acquire(trash_dir / (name + _LOCK_SUFFIX), timeout=0, owner=self._owner)
            bin_dir = trash_dir / name
            try:
                bin_dir.mkdir()
            except BaseException:
                lock.release()
                raise
            self._bins[trash_dir] = (bin_dir, lock)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._empty, name="artifact-trash", daemon=True
                )
                self._thread.start()
        self._queue.put(trash_dir)  # the bins dead processes left there: emptied first
        return bin_dir

    def _empty(self) -> None:
        if self._on_thread_start is not None:
            self._on_thread_start()
        from artifact_manager.storage.cleanup import remove_tree  # the thread's one job

        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                if item.name == TRASH_DIRNAME:
                    empty_stale_bins(item)
                else:
                    remove_tree(item)
            except Exception as error:  # reported by close(); the thread must go on
                self.errors.append(
                    f"could not delete {str(item)!r}: {error}; remove it by hand "
                    "(nothing outside it was touched)"
                )
