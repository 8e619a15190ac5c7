"""Atomic file publication: write to a temp file beside the target, fsync, rename, fsync dir.

A crash at any moment leaves either the old complete file or the new complete file under the
target's name, never a torn one; at worst a temp file (``.artifacts.tmp-*``) is left behind,
which no listing or validation counts as an artifact. A temp name fits wherever the target's
name fits: near the file system's limit its middle gives way (:func:`~.paths.fitted_name`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

from artifact_manager.paths import INTERNAL_PREFIX, fitted_name
from artifact_manager.storage.checksum import sha256_file

__all__ = [
    "RETIRE_FROM",
    "TEMP_PREFIX",
    "flushing",
    "fsync_dir",
    "fsync_file",
    "publish",
    "replace_text",
    "sync_and_hash",
    "temp_path_for",
    "temp_sibling",
    "wait_for_drops",
]

TEMP_PREFIX = INTERNAL_PREFIX + "tmp-"


def temp_path_for(target: Path, tag: str = "") -> Path:
    """A fresh temp path in ``target``'s dir, keeping its suffix (polars picks formats by it)
    and, like every temp name, starting with :data:`TEMP_PREFIX`; no longer than the dir's
    file names may be, also when ``target``'s own name is near that limit."""
    head = f"{TEMP_PREFIX}{tag}{uuid.uuid4().hex[:12]}-"
    return target.with_name(fitted_name(head, target.name, directory=target.parent))


def fsync_file(path: Path) -> None:
    """Flush ``path``'s data to disk (``fdatasync`` where the OS has it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        getattr(os, "fdatasync", os.fsync)(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def flushing(path: Path, interval: float = 0.05) -> Iterator[None]:
    """Create ``path`` and flush it to disk every ``interval`` s while the block writes it.

    The writer (polars, in Rust) serialises on the CPU while the kernel writes back what is
    already there, so the final flush has little left to do (the effect on large frames is
    in ``docs/performance.md``).
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    done = threading.Event()
    sync = getattr(os, "fdatasync", os.fsync)

    def flush_periodically() -> None:
        while not done.wait(interval):
            with contextlib.suppress(OSError):
                sync(fd)

    thread = threading.Thread(target=flush_periodically, name="artifact-flush", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        os.close(fd)


def sync_and_hash(path: Path) -> tuple[int, str]:
    """Flush ``path`` to disk and compute its SHA-256 at the same time; (size, hex digest).

    ``hashlib`` releases the GIL on large buffers, so hashing (from the page cache) and the
    flush overlap.
    """
    errors: list[BaseException] = []

    def flush() -> None:
        try:
            fsync_file(path)
        except BaseException as error:  # re-raised in the caller
            errors.append(error)

    thread = threading.Thread(target=flush, name="artifact-fsync", daemon=True)
    thread.start()
    try:
        digest = sha256_file(path)
    finally:
        thread.join()
    if errors:
        raise errors[0]
    return path.stat().st_size, digest


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (no-op where dirs cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish(
    temp: Path,
    target: Path,
    *,
    replace: bool,
    synced: bool = False,
    sync_dir: bool = True,
    durable: bool = True,
) -> bool:
    """Move complete file ``temp`` to ``target``, atomically and (``durable``) durably.

    With ``replace=False`` the move happens only if ``target`` does not exist (atomically:
    a hard link, then the temp name is dropped); returns False and leaves ``temp`` in place
    when it does. With ``replace=True`` an existing target is replaced atomically.
    ``synced``: the caller already flushed ``temp``. ``sync_dir=False``: the caller flushes
    the dir itself (once, after several renames in it). ``durable=False``: nothing is
    flushed; a killed process still leaves the old or the new file, but power loss may not.
    """
    synced = synced or not durable
    sync_dir = sync_dir and durable
    if not synced:
        fsync_file(temp)
    if replace:
        retired = _retire(target)
        os.replace(temp, target)
        if retired is not None:
            _unlink_later(retired)
    else:
        try:
            os.link(temp, target)
        except FileExistsError:
            return False
        os.unlink(temp)
    if sync_dir:
        fsync_dir(target.parent)
    return True


#: Replaced files from this size on are unlinked in the background (see :func:`_retire`):
#: freeing a 1.6 MB file's blocks took ~1.4 ms here, the link and the thread ~0.25 ms; the
#: two cost the same at ~128 KiB (docs/storage.md).
RETIRE_FROM = 128 << 10


def _retire(target: Path) -> Path | None:
    """Give an existing large ``target`` a second (temp) name, so that replacing it does not
    free its blocks while the caller waits; None when there is nothing (big) to keep or no
    link. Freeing a small file's blocks is cheaper than the thread that would do it."""
    try:
        if os.lstat(target).st_size < RETIRE_FROM:
            return None
    except OSError:
        return None
    retired = temp_path_for(target, "old-")
    try:
        os.link(target, retired, follow_symlinks=False)
    except (
        OSError,
        NotImplementedError,
    ):  # absent, a dir, or links unsupported: replace frees it in place
        return None
    return retired


class _Dropper:
    """One background thread that unlinks retired files, started at the first one.

    Handing a file over is a queue put (~1 us); starting a thread for each cost ~0.17 ms
    right after a polars write here. A daemon, so an idle one never holds the interpreter
    up; at exit (``atexit``) it is stopped after it has unlinked everything handed over, so
    nothing is left behind by a normal exit. A forked child starts its own.
    """

    def __init__(self) -> None:
        self._forget()

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Path | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def drop(self, path: Path) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, args=(self._queue,), name="artifact-unlink", daemon=True
                )
                self._thread.start()
            self._queue.put(path)

    @staticmethod
    def _run(pending: queue.SimpleQueue[Path | None]) -> None:
        while (path := pending.get()) is not None:
            with contextlib.suppress(OSError):
                os.unlink(path)

    def wait(self) -> None:
        """Return once everything handed over is unlinked (the thread stops)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._queue.put(None)
        thread.join()


_dropper = _Dropper()
atexit.register(_dropper.wait)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_dropper._forget)


def _unlink_later(path: Path) -> None:
    """Drop ``path`` in the background: freeing a large file's blocks takes long on some
    disks (see docs/performance.md), time a writer need not wait for."""
    _dropper.drop(path)


def wait_for_drops() -> None:
    """Return once every replaced file handed to the background is unlinked."""
    _dropper.wait()


def replace_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (a report): a temp file of its own beside it (two sessions
    writing one report never share it), then a rename; in place where no new file may be
    made beside it (strict mode made ``path`` before enforcement). Whatever fails, no temp
    file is left behind."""
    data = text.encode("utf-8")  # first: a text that cannot be encoded writes nothing
    path.parent.mkdir(parents=True, exist_ok=True)
    with temp_sibling(path) as tmp:
        try:
            tmp.write_bytes(data)
        except PermissionError:
            path.write_bytes(data)
            return
        os.replace(tmp, path)


@contextlib.contextmanager
def temp_sibling(target: Path) -> Iterator[Path]:
    """A temp path beside ``target``; whatever is left at it is removed on exit (a dir a
    builder made there too, never following a symlink)."""
    temp = temp_path_for(target)
    try:
        yield temp
    finally:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            from artifact_manager.storage.cleanup import remove_tree

            remove_tree(temp)
