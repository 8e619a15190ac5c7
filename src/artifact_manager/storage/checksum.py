"""SHA-256 of files, streamed."""

from __future__ import annotations

import os

__all__ = ["sha256_file"]

_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file at ``path`` (read in 1 MiB chunks)."""
    import hashlib  # here: loading OpenSSL costs ~2 ms at start-up, and most tests hash nothing

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
