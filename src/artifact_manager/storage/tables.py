"""Polars tables by suffix: write to a path, read, scan.

=====================  ============================  ==========================
suffix                 written with                  read / scanned with
=====================  ============================  ==========================
``.tsv``               ``write_csv(separator="\\t")``  ``read_csv`` / ``scan_csv``
``.csv``               ``write_csv``                 ``read_csv`` / ``scan_csv``
``.parquet``           ``write_parquet``             ``read_parquet`` / ``scan_parquet``
``.ipc``, ``.arrow``   ``write_ipc``                 ``read_ipc`` / ``scan_ipc``
``.json``              ``write_json``                ``read_json`` (scan: read, then lazy)
``.ndjson``            ``write_ndjson``              ``read_ndjson`` / ``scan_ndjson``
=====================  ============================  ==========================

Polars is imported on first use, so importing the package (and so every pytest run with the
plugin) does not pay for it.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from artifact_manager.errors import ArtifactPathError

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "SUFFIXES",
    "as_dataframe",
    "check_table_name",
    "read_table",
    "scan_table",
    "write_table_to",
]

SUFFIXES = (".tsv", ".csv", ".parquet", ".ipc", ".arrow", ".json", ".ndjson")


def _suffix(path: str | Path) -> str:
    return Path(path).suffix.lower()


def check_table_name(name: str | Path) -> str:
    """The table format suffix of ``name``, or a clear error listing the supported ones."""
    suffix = _suffix(name)
    if suffix not in SUFFIXES:
        raise ArtifactPathError(
            str(name),
            f"has no known table format (suffix {suffix!r})",
            f"name it with one of {', '.join(SUFFIXES)}",
        )
    return suffix


def as_dataframe(value: object) -> pl.DataFrame | None:
    """``value`` as a polars DataFrame (a LazyFrame is collected), or None if not a frame."""
    import polars as pl

    if isinstance(value, pl.LazyFrame):
        return value.collect()
    return value if isinstance(value, pl.DataFrame) else None


def write_table_to(df: pl.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` in the format its suffix names (not atomic by itself)."""
    suffix = check_table_name(path)
    if suffix == ".tsv":
        df.write_csv(path, separator="\t")
    elif suffix == ".csv":
        df.write_csv(path)
    elif suffix == ".parquet":
        df.write_parquet(path)
    elif suffix in (".ipc", ".arrow"):
        df.write_ipc(path)
    elif suffix == ".json":
        df.write_json(path)
    else:
        df.write_ndjson(path)


class _HashingSink(io.RawIOBase):
    """A write-only file object that writes to an fd and hashes what passes through."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.digest.update(view)
        written = 0
        while written < len(view):
            written += os.write(self._fd, view[written:])
        self.size += len(view)
        return len(view)

    def tell(self) -> int:
        return self.size


#: Formats written through :class:`_HashingSink` (hashed as they are written): for CSV this
#: is as fast as polars writing the path itself, so the separate hash pass goes away; for
#: parquet, IPC and NDJSON the file object is slower, so they are hashed afterwards
#: (``docs/storage.md`` has the figures).
HASHED_WHILE_WRITTEN = (".csv", ".tsv")


def write_table_hashing(df: pl.DataFrame, path: Path) -> tuple[int, str]:
    """Write ``df`` to ``path`` (a CSV-like suffix), hashing it on the way: (size, sha256)."""
    suffix = check_table_name(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        sink = _HashingSink(fd)
        df.write_csv(cast("IO[bytes]", sink), separator="\t" if suffix == ".tsv" else ",")
    finally:
        os.close(fd)
    if os.path.getsize(path) != sink.size:  # never seen: polars wrote around the sink
        raise OSError(f"{path}: {os.path.getsize(path)} bytes on disk, {sink.size} hashed")
    return sink.size, sink.digest.hexdigest()


def _readers(suffix: str) -> tuple[Any, Any, dict[str, Any]]:
    """(eager reader, lazy scanner or None, fixed options) for a table suffix."""
    import polars as pl

    readers: dict[str, tuple[Any, Any, dict[str, Any]]] = {
        ".tsv": (pl.read_csv, pl.scan_csv, {"separator": "\t"}),
        ".csv": (pl.read_csv, pl.scan_csv, {}),
        ".parquet": (pl.read_parquet, pl.scan_parquet, {}),
        ".ipc": (pl.read_ipc, pl.scan_ipc, {}),
        ".arrow": (pl.read_ipc, pl.scan_ipc, {}),
        ".json": (pl.read_json, None, {}),
        ".ndjson": (pl.read_ndjson, pl.scan_ndjson, {}),
    }
    return readers[suffix]


def read_table(path: Path, **options: Any) -> pl.DataFrame:
    """Read the table at ``path`` with polars, by suffix."""
    reader, _scanner, fixed = _readers(check_table_name(path))
    frame: pl.DataFrame = reader(path, **fixed, **options)
    return frame


def scan_table(path: Path, **options: Any) -> pl.LazyFrame:
    """Scan the table at ``path`` lazily with polars, by suffix (JSON: read, then lazy)."""
    reader, scanner, fixed = _readers(check_table_name(path))
    if scanner is None:
        eager: pl.DataFrame = reader(path, **fixed, **options)
        return eager.lazy()
    lazy: pl.LazyFrame = scanner(path, **fixed, **options)
    return lazy
