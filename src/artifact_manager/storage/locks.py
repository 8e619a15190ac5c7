"""Inter-process locks that say who holds them.

A lock is a ``filelock.FileLock`` (an OS lock: a killed holder releases it, so no stale lock
ever blocks the next run) plus a ``.holder`` note written by whoever holds it, read back to
name the holder when another process gives up waiting.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from filelock import FileLock, Timeout

from artifact_manager.errors import ArtifactLockTimeout

__all__ = ["HeldLock", "acquire", "read_holder"]


class HeldLock:
    """A held lock; :meth:`release` (or leaving the ``with`` block) lets it go."""

    def __init__(self, lock: FileLock, path: Path) -> None:
        self._lock = lock
        self.path = path

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()

    def __enter__(self) -> HeldLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _holder_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + ".holder")


def read_holder(lock_path: Path) -> str:
    """Who holds ``lock_path``, as its holder wrote it (or ``"an unknown process"``)."""
    try:
        return _holder_path(lock_path).read_text(encoding="utf-8").strip() or "an unknown process"
    except OSError:
        return "an unknown process"


def acquire(lock_path: Path, *, timeout: float, owner: str) -> HeldLock:
    """Take the lock at ``lock_path``, waiting at most ``timeout`` seconds (< 0: forever).

    Raises:
        ArtifactLockTimeout: naming the lock, the timeout and the current holder.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path, timeout=timeout, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise ArtifactLockTimeout(lock_path, timeout, read_holder(lock_path)) from None
    note = f"pid {os.getpid()} on {socket.gethostname()} ({owner})"
    with contextlib.suppress(OSError):  # the note only informs; the lock is what matters
        _holder_path(lock_path).write_text(note + "\n", encoding="utf-8")
    return HeldLock(lock, lock_path)
