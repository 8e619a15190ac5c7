"""Inter-process locks that say who holds them.

A lock is an OS advisory lock on a lock file, so a killed holder releases it and no stale lock
ever blocks the next run. The holder writes a one-line note (pid, host, what for) into the
lock file itself; a process that gives up waiting reads it back to name the holder.

On POSIX the lock is ``fcntl.flock`` on a file opened with ``O_NOFOLLOW`` (a symlink planted
at the lock path is refused, not followed); elsewhere ``filelock.FileLock``. ``flock`` is an
order of magnitude cheaper per acquire than ``filelock``, which matters when every test takes
a lock (figures in ``docs/performance.md``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

from artifact_manager.errors import ArtifactLockTimeout, ArtifactPathError

if sys.platform != "win32":
    import fcntl

__all__ = ["HeldLock", "acquire", "is_held", "read_holder"]

_POLL_MIN = 0.005
_POLL_MAX = 0.1
_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class HeldLock:
    """A held lock; :meth:`release` (or leaving the ``with`` block) lets it go."""

    def __init__(self, path: Path, release: Callable[[], None]) -> None:
        self.path = path
        self._release: Callable[[], None] | None = release

    def release(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    def __enter__(self) -> HeldLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def read_holder(lock_path: Path) -> str:
    """Who holds ``lock_path``, as its holder wrote it (or ``"an unknown process"``)."""
    try:
        fd = os.open(lock_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return "an unknown process"
    with os.fdopen(fd, "rb") as handle:
        note = handle.read(4096).decode("utf-8", "replace").strip()
    return note or "an unknown process"


_NOTE_SIZE = 512


def _note(owner: str) -> bytes:
    """The holder note, padded to a fixed size so it always overwrites the previous one."""
    note = f"pid {os.getpid()} on {socket.gethostname()} ({owner})".encode()[: _NOTE_SIZE - 1]
    return note.ljust(_NOTE_SIZE - 1) + b"\n"


def _open(lock_path: Path) -> int:
    try:
        try:
            return os.open(lock_path, _FLAGS, 0o644)
        except FileNotFoundError:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(lock_path, _FLAGS, 0o644)
    except OSError as error:
        if error.errno != errno.ELOOP:
            raise
        raise ArtifactPathError(
            str(lock_path), "lock file is a symlink", "remove the symlink; it was not followed"
        ) from None


def _same_file(fd: int, lock_path: Path) -> bool:
    """True if ``fd`` is still the file at ``lock_path`` (not unlinked or replaced)."""
    try:
        here = os.stat(lock_path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    there = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _acquire_flock(lock_path: Path, timeout: float, owner: str, shared: bool) -> HeldLock:
    fd = _open(lock_path)
    deadline = None if timeout < 0 else time.monotonic() + timeout
    poll = _POLL_MIN
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            if shared and not _same_file(fd, lock_path):
                # A shared lock file may be unlinked by whoever holds it exclusively
                # (retention removes a dead session's lock): holding the old inode would
                # prove nothing, so open the path again.
                os.close(fd)
                fd = -1
                fd = _open(lock_path)
                continue
            break
        except BlockingIOError:
            if deadline is not None and time.monotonic() >= deadline:
                os.close(fd)
                raise ArtifactLockTimeout(lock_path, timeout, read_holder(lock_path)) from None
            time.sleep(poll)
            poll = min(poll * 2, _POLL_MAX)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            raise
    if not shared:  # several hold a shared lock: nobody's note would be right
        with contextlib.suppress(OSError):  # the note only informs; the lock is what matters
            os.pwrite(fd, _note(owner), 0)  # fixed length: no (slow) truncate needed

    def release() -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    return HeldLock(lock_path, release)


def _acquire_filelock(lock_path: Path, timeout: float, owner: str, shared: bool) -> HeldLock:
    from filelock import FileLock, Timeout

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path, timeout=timeout, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise ArtifactLockTimeout(lock_path, timeout, "another process") from None
    return HeldLock(lock_path, lock.release)


def acquire(lock_path: Path, *, timeout: float, owner: str, shared: bool = False) -> HeldLock:
    """Take the lock at ``lock_path``, waiting at most ``timeout`` seconds (< 0: forever).

    ``shared``: a shared lock (``LOCK_SH``): any number of holders at once, and an exclusive
    taker waits for all of them; it holds the file that is at ``lock_path`` when it is
    taken, even if an exclusive holder unlinks the path meanwhile. (Off POSIX a shared lock
    is exclusive.)

    Raises:
        ArtifactLockTimeout: naming the lock, the timeout and the current holder.
        ArtifactPathError: if a symlink was planted at the lock path.
    """
    if sys.platform == "win32":  # pragma: no cover
        return _acquire_filelock(lock_path, timeout, owner, shared)
    return _acquire_flock(lock_path, timeout, owner, shared)


def is_held(lock_path: Path) -> bool:
    """True if some process holds the lock at ``lock_path`` now; writes nothing, waits never.

    For a dry run on what may be a read-only tree: a lock file that does not exist is not
    held (nothing is created); one that exists is opened read-only and locked exclusively,
    without waiting, and let go at once (the ``flock`` that :func:`acquire` takes, so a shared
    holder counts too). The answer may be stale the moment it is given.

    Raises:
        ArtifactPathError: if a symlink was planted at the lock path (as :func:`acquire`), or
            the lock file cannot be opened to tell.
    """
    if sys.platform == "win32":  # pragma: no cover - filelock removes its file on release
        return os.path.lexists(lock_path)
    try:
        fd = os.open(lock_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ArtifactPathError(
                str(lock_path), "lock file is a symlink", "remove the symlink; it was not followed"
            ) from None
        raise ArtifactPathError(
            str(lock_path),
            f"cannot be opened to tell whether it is held ({error.strerror})",
            "make it readable, or remove it if no process is using the dir",
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing the only descriptor also releases a lock just taken
    return False
