"""SHA-256 of files, streamed; and the stamp that lets a checksum be taken later.

A file about to be published is *marked*: its mtime is set one nanosecond back
(:func:`mark`). Once published, its stamp is ``(st_ino, st_size, st_mtime_ns,
st_ctime_ns)`` (:func:`stamp_of`). Any later write to the file sets its mtime to the current
time, which is at or after the write that made it, so never back to the marked value, even
within the file system's timestamp tick; a rename over it brings another inode; a tool that
restores the mtime after writing (``touch -r``, ``rsync -t``) cannot restore the ctime. So
while a file's stamp is unchanged, its content is the content it had when it was stamped,
and its SHA-256 can be computed when someone first asks for it (:func:`sha256_if_stamped`)
instead of on the write path. (A ``chmod`` or a new hard link changes the ctime too: such a
file counts as changed.)
"""

from __future__ import annotations

import os
from typing import BinaryIO

__all__ = ["Stamp", "mark", "sha256_file", "sha256_if_stamped", "stamp_of"]

_CHUNK = 1 << 20

#: ``(st_ino, st_size, st_mtime_ns, st_ctime_ns)`` of a marked file.
Stamp = tuple[int, int, int, int]


def _sha256_of(handle: BinaryIO) -> str:
    import hashlib  # here: loading OpenSSL costs ~2 ms at start-up, and most tests hash nothing

    digest = hashlib.sha256()
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file at ``path`` (read in 1 MiB chunks)."""
    with open(path, "rb") as handle:
        return _sha256_of(handle)


def stamp_of(info: os.stat_result) -> Stamp:
    """The stamp of a file from its ``stat`` result."""
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def mark(path: str | os.PathLike[str]) -> int:
    """Set the mtime of the file at ``path`` one nanosecond back; returns the new mtime.

    The caller checks it in the stamp it takes: a file system that does not keep the
    nanosecond shows another value (then hash the file now).
    """
    info = os.stat(path)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - 1))
    return info.st_mtime_ns - 1


def sha256_if_stamped(path: str | os.PathLike[str], expected: Stamp) -> str | None:
    """Hex SHA-256 of the file at ``path`` if its stamp is still ``expected`` before and
    after it is read; None if the file is gone or was written since it was stamped."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, after the second fstat
    except FileNotFoundError:
        return None
    with handle:
        if stamp_of(os.fstat(handle.fileno())) != expected:
            return None
        digest = _sha256_of(handle)
        if stamp_of(os.fstat(handle.fileno())) != expected:
            return None
    return digest
