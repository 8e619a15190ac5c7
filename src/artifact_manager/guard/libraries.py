"""The native writers layer 2 wraps: one table per library (see :mod:`.writers`).

A row is (attribute path in the module, what a call writes to). Positions count ``self`` for
methods. Writers given a Python file object need no row: the ``open`` that made it went
through the audit hook (pandas ``to_csv``/``to_feather``/``to_orc``/``to_json``/``to_pickle``,
``to_excel`` all open their file in Python). pandas ``to_parquet`` opens its file with
``pyarrow.OSFile`` (pandas 3) or hands the path to ``pyarrow.parquet.write_table`` (earlier
releases; ``write_to_dataset`` when partitioned), and ``to_hdf`` calls ``tables.open_file``:
the pyarrow and PyTables rows stop them, so pandas needs no table of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from artifact_manager.guard.writers import Library, Targets, Wrap, argument

__all__ = ["LIBRARIES"]


def _with_mode(
    index: int, name: str, mode_index: int, writing: frozenset[str], default: str = "r"
) -> Targets:
    """The path argument, when the mode argument opens for writing."""
    path = argument(index, name)

    def targets(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterable[object]:
        mode = args[mode_index] if len(args) > mode_index else kwargs.get("mode", default)
        if (mode or default) not in writing:
            return ()
        return path(args, kwargs)

    return targets


def _hdf5_file(index: int, name: str, memory_only: tuple[str, str, object]) -> Targets:
    """h5py/PyTables files: opened for writing, and not an in-memory file without a backing
    store (``driver``, backing-store keyword, its "no" value)."""
    opened = _with_mode(index, name, index + 1, frozenset({"w", "w-", "x", "a", "r+"}))
    driver, backing, off = memory_only

    def targets(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterable[object]:
        if kwargs.get("driver") == driver and kwargs.get(backing, True) in (off, False):
            return ()
        return opened(args, kwargs)

    return targets


def _arguments(*positions: tuple[int, str]) -> Targets:
    each = [argument(index, name) for index, name in positions]

    def targets(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterable[object]:
        return [target for one in each for target in one(args, kwargs)]

    return targets


def _sql(index: int) -> Targets:
    def targets(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterable[object]:
        # Imported at the first SQL call: compiling its tokenizer costs ~0.6 ms at start-up.
        from artifact_manager.guard.sql_targets import sql_targets

        return sql_targets(args[index] if len(args) > index else kwargs.get("query"))

    return targets


def _duckdb_database(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterable[object]:
    """``duckdb.connect(database, read_only, config)``: a database file, unless read-only."""
    database = args[0] if args else kwargs.get("database", ":memory:")
    read_only = args[1] if len(args) > 1 else kwargs.get("read_only", False)
    config = args[2] if len(args) > 2 else kwargs.get("config")
    if read_only or (
        isinstance(config, dict) and str(config.get("access_mode", "")).upper() == "READ_ONLY"
    ):
        return ()
    if isinstance(database, str) and (
        database in ("", ":memory:") or database.startswith((":memory:", "md:", "motherduck:"))
    ):
        return ()
    return (database,)


def _copy_files_destination(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterable[object]:
    """``pyarrow.fs.copy_files(source, destination, source_filesystem,
    destination_filesystem)``: the destination, read relative to its file system."""
    value = args[1] if len(args) > 1 else kwargs.get("destination")
    filesystem = args[3] if len(args) > 3 else kwargs.get("destination_filesystem")
    return argument(0, "destination")((value,), {"filesystem": filesystem} if filesystem else {})


def _rows(targets: Targets, *attributes: str) -> tuple[Wrap, ...]:
    return tuple(Wrap(attribute, targets) for attribute in attributes)


POLARS = Library(
    "polars",
    {
        "polars": (
            *_rows(
                argument(1, "file"),
                *(
                    f"DataFrame.write_{kind}"
                    for kind in ("csv", "parquet", "ipc", "ipc_stream", "json", "ndjson", "avro")
                ),
            ),
            Wrap("DataFrame.write_excel", argument(1, "workbook")),
            Wrap("DataFrame.write_delta", argument(1, "target")),
            *_rows(
                argument(1, "path"),
                *(f"LazyFrame.sink_{kind}" for kind in ("csv", "parquet", "ipc", "ndjson")),
            ),
            Wrap("LazyFrame.sink_delta", argument(1, "target")),
        )
    },
)
"""polars path writers (they write from Rust)."""

PYARROW = Library(
    "pyarrow",
    {
        "pyarrow": (
            Wrap("output_stream", argument(0, "source")),
            Wrap("create_memory_map", argument(0, "path")),
            Wrap("memory_map", _with_mode(0, "path", 1, frozenset({"r+", "w"}))),
            Wrap("OSFile.__new__", _with_mode(1, "path", 2, frozenset({"w", "wb", "a", "ab"}))),
            Wrap("CompressedOutputStream.__new__", argument(1, "stream")),
        ),
        "pyarrow.fs": (
            *_rows(
                argument(1, "path"),
                *(
                    f"LocalFileSystem.{name}"
                    for name in (
                        "open_output_stream",
                        "open_append_stream",
                        "create_dir",
                        "delete_dir",
                        "delete_dir_contents",
                        "delete_file",
                    )
                ),
            ),
            Wrap("LocalFileSystem.move", _arguments((1, "src"), (2, "dest"))),
            Wrap("LocalFileSystem.copy_file", argument(2, "dest")),
            Wrap("copy_files", _copy_files_destination),
        ),
        "pyarrow.parquet": (
            Wrap("write_table", argument(1, "where")),
            Wrap("ParquetWriter.__init__", argument(1, "where")),
            Wrap("write_to_dataset", argument(1, "root_path")),
            Wrap("write_metadata", argument(1, "where")),
        ),
        "pyarrow.feather": (Wrap("write_feather", argument(1, "dest")),),
        "pyarrow.csv": (
            Wrap("write_csv", argument(1, "output_file")),
            Wrap("CSVWriter.__init__", argument(1, "sink")),
        ),
        "pyarrow.ipc": (
            Wrap("new_file", argument(0, "sink")),
            Wrap("new_stream", argument(0, "sink")),
            Wrap("RecordBatchFileWriter.__init__", argument(1, "sink")),
            Wrap("RecordBatchStreamWriter.__init__", argument(1, "sink")),
        ),
        "pyarrow.orc": (
            Wrap("write_table", argument(1, "where")),
            Wrap("ORCWriter.__init__", argument(1, "where")),
        ),
        "pyarrow.dataset": (Wrap("write_dataset", argument(1, "base_dir")),),
    },
)

H5PY = Library(
    "h5py",
    {"h5py": (Wrap("File.__init__", _hdf5_file(1, "name", ("core", "backing_store", False))),)},
)
"""``h5py.File`` for writing (w, w-, x, a, r+; h5py 3 opens for reading by default)."""

PYTABLES = Library(
    "pytables",
    {
        "tables": (
            Wrap(
                "File.__init__",
                _hdf5_file(1, "filename", ("H5FD_CORE", "driver_core_backing_store", 0)),
            ),
        )
    },
)
"""PyTables files for writing: ``tables.open_file`` and pandas ``to_hdf``/``HDFStore``."""

_DUCKDB_SQL = ("execute", "executemany", "sql", "query", "from_query")
DUCKDB = Library(
    "duckdb",
    {
        "duckdb": (
            Wrap("connect", _duckdb_database),
            *_rows(_sql(0), *_DUCKDB_SQL),
            *_rows(_sql(1), *(f"DuckDBPyConnection.{name}" for name in _DUCKDB_SQL)),
            Wrap("write_csv", argument(1, "filename")),
            *_rows(
                argument(1, "file_name"),
                *(
                    f"DuckDBPyRelation.{name}"
                    for name in ("write_csv", "to_csv", "write_parquet", "to_parquet")
                ),
            ),
        )
    },
)
"""duckdb: ``connect()`` to a database file (not ``read_only``), SQL that writes files (see
:mod:`.sql_targets`) on the module and on connections, and relation writers."""

LIBRARIES = (POLARS, PYARROW, H5PY, PYTABLES, DUCKDB)
