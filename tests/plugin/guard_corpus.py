"""The guard corpus: write routes into a protected dir, and harmless controls.

Each route is the body of an inner test. ``P`` is the route's own protected dir (holding
``seed.tsv`` and ``sub/``), ``OUT`` an unprotected dir, ``LINK_TO_P`` a symlink outside the
data root that points at ``P``, ``EARLY`` a handle on the existing ``early.tsv`` of the
``handle_opened_before`` route, opened for appending at import time (before the guard was
armed); ``monkeypatch`` and ``test_artifacts_dir`` are the fixtures.

Used by ``test_guard_corpus.py`` and, to write the table in ``docs/guard.md``, run as

    python tests/plugin/guard_corpus.py

which runs the corpus serial and with ``-n 2`` and rewrites the table between the markers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

# At module level, not in prepare(): pytester drops modules imported during a test, and
# duckdb's extension aborts the process when it is imported a second time.
import duckdb
import h5py

PREVENTED, DETECTED, CONTROL = "prevented", "detected", "control"
# layer 2: the libraries whose writers are checked before they write (guard/libraries.py)
POLARS, PYARROW, H5PY, PYTABLES, DUCKDB = "polars", "pyarrow", "h5py", "pytables", "duckdb"
STOPPED = (PREVENTED, POLARS, PYARROW, H5PY, PYTABLES, DUCKDB)


@dataclass(frozen=True)
class Route:
    name: str
    expected: str
    description: str
    code: str
    #: Other layers that stop this route with other versions of its library (the table
    #: shows ``expected`` for them, so docs/guard.md is the same whatever the versions).
    also: tuple[str, ...] = ()

    def stopped_as(self, layers: list[str]) -> list[str]:
        """``layers`` as the table shows them: an ``also`` layer counts as ``expected``."""
        return [self.expected if layer in self.also else layer for layer in layers]


def r(name: str, expected: str, description: str, code: str, also: tuple[str, ...] = ()) -> Route:
    return Route(name, expected, description, textwrap.dedent(code).strip(), also)


ROUTES = [
    # -- the audit hook prevents ------------------------------------------------------------
    r("open_w", PREVENTED, "open(path, 'w')", "open(P / 'seed.tsv', 'w').close()"),
    r("open_a", PREVENTED, "open(path, 'a')", "open(P / 'seed.tsv', 'a').close()"),
    r("open_x", PREVENTED, "open(path, 'x')", "open(P / 'new.tsv', 'x').close()"),
    r("open_r_plus", PREVENTED, "open(path, 'r+')", "open(P / 'seed.tsv', 'r+').close()"),
    r("io_fileio", PREVENTED, "io.FileIO(path, 'w')", "io.FileIO(P / 'new.tsv', 'w').close()"),
    r(
        "os_open_wronly",
        PREVENTED,
        "os.open(O_WRONLY)",
        "os.close(os.open(P / 'seed.tsv', os.O_WRONLY))",
    ),
    r(
        "os_open_creat",
        PREVENTED,
        "os.open(O_CREAT)",
        "os.close(os.open(P / 'new.tsv', os.O_RDONLY | os.O_CREAT))",
    ),
    r(
        "os_open_trunc",
        PREVENTED,
        "os.open(O_TRUNC)",
        "os.close(os.open(P / 'seed.tsv', os.O_RDONLY | os.O_TRUNC))",
    ),
    r("pathlib_write_text", PREVENTED, "Path.write_text", "(P / 'seed.tsv').write_text('x')"),
    r("pathlib_write_bytes", PREVENTED, "Path.write_bytes", "(P / 'new.bin').write_bytes(b'x')"),
    r("pathlib_touch", PREVENTED, "Path.touch (new file)", "(P / 'new.tsv').touch()"),
    r("pathlib_touch_existing", PREVENTED, "Path.touch (existing)", "(P / 'seed.tsv').touch()"),
    r(
        "named_temporary_file",
        PREVENTED,
        "NamedTemporaryFile(dir=P)",
        "tempfile.NamedTemporaryFile(dir=P).close()",
    ),
    r("mkstemp", PREVENTED, "tempfile.mkstemp(dir=P)", "tempfile.mkstemp(dir=P)"),
    r("mkdtemp", PREVENTED, "tempfile.mkdtemp(dir=P)", "tempfile.mkdtemp(dir=P)"),
    r(
        "pickle_dump",
        PREVENTED,
        "pickle.dump to an opened file",
        "with open(P / 'x.pkl', 'wb') as f:\n    pickle.dump([1], f)",
    ),
    r("sqlite_connect", PREVENTED, "sqlite3.connect(path)", "sqlite3.connect(P / 'db.sqlite')"),
    r(
        "thread_write",
        PREVENTED,
        "a write in a thread",
        "t = threading.Thread(target=lambda: open(P / 'seed.tsv', 'w'))\nt.start(); t.join()",
    ),
    r(
        "swallowed",
        PREVENTED,
        "exception swallowed by except OSError",
        "try:\n    open(P / 'seed.tsv', 'w')\nexcept OSError:\n    pass",
    ),
    r("mkdir", PREVENTED, "os.mkdir", "os.mkdir(P / 'newdir')"),
    r("makedirs", PREVENTED, "os.makedirs", "os.makedirs(P / 'a' / 'b')"),
    r("rename_into", PREVENTED, "os.rename into P", "os.rename(OUT / 'f.tsv', P / 'f.tsv')"),
    r("rename_out_of", PREVENTED, "os.rename out of P", "os.rename(P / 'seed.tsv', OUT / 's.tsv')"),
    r("replace_into", PREVENTED, "os.replace into P", "os.replace(OUT / 'f.tsv', P / 'seed.tsv')"),
    r("remove", PREVENTED, "os.remove", "os.remove(P / 'seed.tsv')"),
    r("unlink", PREVENTED, "Path.unlink", "(P / 'seed.tsv').unlink()"),
    r("rmdir", PREVENTED, "os.rmdir", "os.rmdir(P / 'sub')"),
    r("symlink_into", PREVENTED, "os.symlink into P", "os.symlink(OUT / 'f.tsv', P / 'l.tsv')"),
    r("link_into", PREVENTED, "os.link into P", "os.link(OUT / 'f.tsv', P / 'h.tsv')"),
    r("truncate", PREVENTED, "os.truncate", "os.truncate(P / 'seed.tsv', 0)"),
    r("chmod", PREVENTED, "os.chmod", "os.chmod(P / 'seed.tsv', 0o600)"),
    r("utime", PREVENTED, "os.utime", "os.utime(P / 'seed.tsv', (1, 1))"),
    r("shutil_copy", PREVENTED, "shutil.copy", "shutil.copy(OUT / 'f.tsv', P / 'c.tsv')"),
    r("shutil_copy2", PREVENTED, "shutil.copy2", "shutil.copy2(OUT / 'f.tsv', P / 'c.tsv')"),
    r("shutil_copyfile", PREVENTED, "shutil.copyfile", "shutil.copyfile(OUT / 'f.tsv', P / 'c')"),
    r("shutil_copytree", PREVENTED, "shutil.copytree", "shutil.copytree(OUT, P / 'tree')"),
    r("shutil_move", PREVENTED, "shutil.move into P", "shutil.move(OUT / 'f.tsv', P / 'm.tsv')"),
    r("shutil_rmtree", PREVENTED, "shutil.rmtree", "shutil.rmtree(P / 'sub')"),
    r(
        "through_symlinked_dir",
        PREVENTED,
        "open through a symlink leading into P",
        "open(LINK_TO_P / 'seed.tsv', 'w')",
    ),
    r(
        "relative_path",
        PREVENTED,
        "a relative path after chdir",
        "monkeypatch.chdir(P)\nopen('seed.tsv', 'w')",
    ),
    r(
        "final_symlink_open",
        PREVENTED,
        "open through a symlink the test made in its own dir",
        "os.symlink(P / 'seed.tsv', test_artifacts_dir / 'x')\nopen(test_artifacts_dir / 'x', 'w')",
    ),
    r(
        "final_symlink_truncate",
        PREVENTED,
        "os.truncate through such a symlink",
        "x = test_artifacts_dir / 'x'\nos.symlink(P / 'seed.tsv', x)\nos.truncate(x, 0)",
    ),
    r(
        "final_symlink_chmod",
        PREVENTED,
        "os.chmod through such a symlink",
        "x = test_artifacts_dir / 'x'\nos.symlink(P / 'seed.tsv', x)\nos.chmod(x, 0o600)",
    ),
    r(
        "dangling_symlink_create",
        PREVENTED,
        "open through a dangling symlink into P (creates the file)",
        "os.symlink(P / 'new.tsv', test_artifacts_dir / 'x')\nopen(test_artifacts_dir / 'x', 'w')",
    ),
    r(
        "hardlink_out_of_p",
        PREVENTED,
        "os.link of a file in P (a second name to write it by)",
        "os.link(P / 'seed.tsv', test_artifacts_dir / 'h.tsv')",
    ),
    r(
        "native_symlink_after_missing",
        PREVENTED,
        "a path found missing, then made a symlink into P by native code",
        """
        d = test_artifacts_dir / 'd'
        try:
            open(d / 'seed.tsv', 'w')
        except FileNotFoundError:
            pass
        assert ctypes.CDLL(None).symlink(bytes(P), bytes(d)) == 0
        open(d / 'seed.tsv', 'w')
        """,
    ),
    r(
        "subprocess_relinks_dir",
        PREVENTED,
        "a dir of the test's, replaced by a subprocess with a symlink into P",
        """
        d = test_artifacts_dir / 'd'
        d.mkdir()
        (d / 'x.tsv').write_text('x')
        subprocess.run(['sh', '-c', f'rm -r "{d}" && ln -s "{P}" "{d}"'], check=True)
        open(d / 'seed.tsv', 'w')
        """,
    ),
    r(
        "sqlite_percent_uri",
        PREVENTED,
        "sqlite3 URI with a percent-encoded path",
        """
        path = str(P).replace('/data/', '/d%61ta/')
        sqlite3.connect(f'file:{path}/pct.db', uri=True)
        """,
    ),
    r("setxattr", PREVENTED, "os.setxattr", "os.setxattr(P / 'seed.tsv', 'user.x', b'1')"),
    r(
        "sqlite_attach",
        PREVENTED,
        "sqlite3: ATTACH DATABASE 'path' on a connection to a harmless db, then a write",
        """
        db = sqlite3.connect(OUT / 'harmless.db')
        db.execute(f"ATTACH DATABASE '{P}/attached.db' AS p")
        db.execute('CREATE TABLE p.t (x)')
        """,
    ),
    r(
        "sqlite_attach_uri",
        PREVENTED,
        "sqlite3: ATTACH 'file:path?mode=rwc' (a URI)",
        "sqlite3.connect(':memory:').execute(f\"ATTACH 'file:{P}/u.db?mode=rwc' AS p\")",
    ),
    r(
        "sqlite_vacuum_into",
        PREVENTED,
        "sqlite3: VACUUM INTO 'path'",
        "sqlite3.connect(OUT / 'harmless.db').execute(f\"VACUUM INTO '{P}/copy.db'\")",
    ),
    r(
        "sqlite_vacuum_into_parameter",
        PREVENTED,
        "sqlite3: VACUUM INTO ? (the path a bound parameter)",
        "sqlite3.connect(':memory:').execute('VACUUM INTO ?', (str(P / 'copy.db'),))",
    ),
    # -- polars writers, checked before they write ------------------------------------------
    r("polars_write_csv", POLARS, "DataFrame.write_csv(path)", "DF.write_csv(P / 'x.csv')"),
    r(
        "polars_tilde_path",
        POLARS,
        "DataFrame.write_ipc('~/...') (polars expands ~)",
        """
        monkeypatch.setenv('HOME', str(ROOT))
        DF.write_ipc('~/' + str((P / 'x.ipc').relative_to(ROOT)))
        """,
    ),
    r(
        "polars_write_parquet",
        POLARS,
        "DataFrame.write_parquet(path)",
        "DF.write_parquet(P / 'x.pq')",
    ),
    r("polars_write_ipc", POLARS, "DataFrame.write_ipc(path)", "DF.write_ipc(P / 'x.ipc')"),
    r("polars_write_json", POLARS, "DataFrame.write_json(path)", "DF.write_json(P / 'x.json')"),
    r("polars_write_ndjson", POLARS, "DataFrame.write_ndjson(path)", "DF.write_ndjson(P / 'x.nd')"),
    r(
        "polars_sink_parquet",
        POLARS,
        "LazyFrame.sink_parquet(path)",
        "DF.lazy().sink_parquet(P / 'x.pq')",
    ),
    r("polars_sink_csv", POLARS, "LazyFrame.sink_csv(path)", "DF.lazy().sink_csv(P / 'x.csv')"),
    r(
        "polars_file_object",
        PREVENTED,
        "DataFrame.write_csv(file object)",
        "with open(P / 'x.csv', 'w') as f:\n    DF.write_csv(f)",
    ),
    # -- pyarrow (C++), checked before it writes ------------------------------------------
    r("pq_write_table", PYARROW, "pyarrow.parquet.write_table", "pq.write_table(TABLE, P / 'x')"),
    r(
        "pq_parquet_writer",
        PYARROW,
        "pyarrow.parquet.ParquetWriter",
        "pq.ParquetWriter(P / 'x.pq', TABLE.schema)",
    ),
    r(
        "pq_write_to_dataset",
        PYARROW,
        "pyarrow.parquet.write_to_dataset",
        "pq.write_to_dataset(TABLE, P / 'ds')",
    ),
    r(
        "pq_write_table_filesystem",
        PYARROW,
        "pyarrow.parquet.write_table(filesystem=SubTreeFileSystem)",
        """
        local = pafs.SubTreeFileSystem(str(P), pafs.LocalFileSystem())
        pq.write_table(TABLE, 'x.pq', filesystem=local)
        """,
    ),
    r(
        "feather_write",
        PYARROW,
        "pyarrow.feather.write_feather",
        "feather.write_feather(TABLE, P / 'x.feather')",
    ),
    r("pa_csv_write", PYARROW, "pyarrow.csv.write_csv", "pacsv.write_csv(TABLE, str(P / 'x.csv'))"),
    r(
        "pa_csv_writer",
        PYARROW,
        "pyarrow.csv.CSVWriter",
        "pacsv.CSVWriter(str(P / 'x.csv'), TABLE.schema)",
    ),
    r("ipc_new_file", PYARROW, "pyarrow.ipc.new_file", "ipc.new_file(str(P / 'x'), TABLE.schema)"),
    r(
        "ipc_new_stream",
        PYARROW,
        "pyarrow.ipc.new_stream",
        "ipc.new_stream(str(P / 'x'), TABLE.schema)",
    ),
    r(
        "ipc_file_writer",
        PYARROW,
        "pyarrow.ipc.RecordBatchFileWriter",
        "ipc.RecordBatchFileWriter(str(P / 'x'), TABLE.schema)",
    ),
    r(
        "ipc_stream_writer",
        PYARROW,
        "pyarrow.ipc.RecordBatchStreamWriter",
        "ipc.RecordBatchStreamWriter(str(P / 'x'), TABLE.schema)",
    ),
    r(
        "dataset_write",
        PYARROW,
        "pyarrow.dataset.write_dataset",
        "pads.write_dataset(TABLE, P / 'ds', format='parquet')",
    ),
    r(
        "fs_open_output_stream",
        PYARROW,
        "pyarrow.fs.LocalFileSystem().open_output_stream",
        "pafs.LocalFileSystem().open_output_stream(str(P / 'seed.tsv'))",
    ),
    r(
        "fs_open_append_stream",
        PYARROW,
        "pyarrow.fs.LocalFileSystem().open_append_stream",
        "pafs.LocalFileSystem().open_append_stream(str(P / 'seed.tsv'))",
    ),
    r(
        "fs_create_dir",
        PYARROW,
        "pyarrow.fs.LocalFileSystem().create_dir",
        "pafs.LocalFileSystem().create_dir(str(P / 'new'))",
    ),
    r(
        "fs_delete_file",
        PYARROW,
        "pyarrow.fs.LocalFileSystem().delete_file",
        "pafs.LocalFileSystem().delete_file(str(P / 'seed.tsv'))",
    ),
    r(
        "fs_delete_dir",
        PYARROW,
        "pyarrow.fs.LocalFileSystem().delete_dir",
        "pafs.LocalFileSystem().delete_dir(str(P / 'sub'))",
    ),
    r(
        "fs_move",
        PYARROW,
        "pyarrow.fs.LocalFileSystem().move out of P",
        "pafs.LocalFileSystem().move(str(P / 'seed.tsv'), str(OUT / 'm.tsv'))",
    ),
    r(
        "fs_copy_file",
        PYARROW,
        "pyarrow.fs.LocalFileSystem().copy_file into P",
        "pafs.LocalFileSystem().copy_file(str(OUT / 'f.tsv'), str(P / 'c.tsv'))",
    ),
    r(
        "fs_copy_files",
        PYARROW,
        "pyarrow.fs.copy_files into P",
        "pafs.copy_files(str(OUT / 'f.tsv'), str(P / 'c.tsv'))",
    ),
    r(
        "duckdb_escape_string",
        DUCKDB,
        "duckdb COPY ... TO E'...' (an escape string)",
        "duckdb.sql(f\"COPY (SELECT 1 AS a) TO E'{P}/escape.csv'\")",
    ),
    r(
        "duckdb_attach_alias_read_only",
        DUCKDB,
        "duckdb ATTACH ... AS read_only (an alias, not the option)",
        "duckdb.sql(f\"ATTACH '{P}/alias.duckdb' AS read_only\")",
    ),
    r("pa_osfile", PYARROW, "pyarrow.OSFile(path, 'wb')", "pa.OSFile(str(P / 'seed.tsv'), 'wb')"),
    r(
        "pa_output_stream",
        PYARROW,
        "pyarrow.output_stream(path)",
        "pa.output_stream(str(P / 'seed.tsv'))",
    ),
    r(
        "pa_compressed_output_stream",
        PYARROW,
        "pyarrow.CompressedOutputStream(path)",
        "pa.CompressedOutputStream(str(P / 'x.gz'), 'gzip')",
    ),
    r(
        "pa_memory_map_write",
        PYARROW,
        "pyarrow.memory_map(path, 'r+')",
        "pa.memory_map(str(P / 'seed.tsv'), 'r+')",
    ),
    r(
        "pa_create_memory_map",
        PYARROW,
        "pyarrow.create_memory_map",
        "pa.create_memory_map(str(P / 'x'), 16)",
    ),
    r(
        "orc_write_table",
        PYARROW,
        "pyarrow.orc.write_table",
        "orc.write_table(TABLE, str(P / 'x'))",
    ),
    # -- pandas: through pyarrow, PyTables or Python's open --------------------------------
    # pandas < 3 opens a to_parquet path in Python: then the audit hook stops it.
    r(
        "pandas_to_parquet",
        PYARROW,
        "pandas DataFrame.to_parquet",
        "PDF.to_parquet(P / 'x.pq')",
        also=(PREVENTED,),
    ),
    r(
        "pandas_to_parquet_partitioned",
        PYARROW,
        "pandas DataFrame.to_parquet(partition_cols=...)",
        "PDF.to_parquet(P / 'ds', partition_cols=['a'])",
        also=(PREVENTED,),
    ),
    r("pandas_to_hdf", PYTABLES, "pandas DataFrame.to_hdf", "PDF.to_hdf(P / 'x.h5', key='k')"),
    r("pandas_to_feather", PREVENTED, "pandas DataFrame.to_feather", "PDF.to_feather(P / 'x')"),
    r("pandas_to_csv", PREVENTED, "pandas DataFrame.to_csv", "PDF.to_csv(P / 'seed.tsv')"),
    # -- h5py and PyTables (HDF5, C) -------------------------------------------------------
    r("h5py_file_w", H5PY, "h5py.File(path, 'w')", "h5py.File(P / 'seed.h5', 'w')"),
    r("h5py_file_a", H5PY, "h5py.File(path, 'a')", "h5py.File(P / 'seed.h5', 'a')"),
    r("h5py_file_r_plus", H5PY, "h5py.File(path, 'r+')", "h5py.File(P / 'seed.h5', 'r+')"),
    r("h5py_file_x", H5PY, "h5py.File(path, 'x')", "h5py.File(P / 'new.h5', 'x')"),
    r(
        "tables_open_file",
        PYTABLES,
        "tables.open_file(path, 'w')",
        "tables.open_file(str(P / 'x.h5'), 'w')",
    ),
    # -- duckdb (C++), checked before it writes --------------------------------------------
    r(
        "duckdb_connect_file",
        DUCKDB,
        "duckdb.connect(database file)",
        "duckdb.connect(str(P / 'x.duckdb'))",
    ),
    r(
        "duckdb_sql_copy",
        DUCKDB,
        "duckdb.sql(\"COPY ... TO 'path'\")",
        "duckdb.sql(f\"COPY (SELECT 1 AS a) TO '{P}/x.csv'\")",
    ),
    r(
        "duckdb_execute_copy",
        DUCKDB,
        "connection.execute(\"COPY ... TO 'path'\")",
        "duckdb.connect().execute(f\"COPY (SELECT 1 AS a) TO '{P}/x.parquet' (FORMAT parquet)\")",
    ),
    r(
        "duckdb_prepared_copy",
        DUCKDB,
        "connection.execute(\"PREPARE s AS COPY ... TO 'path'\")",
        "duckdb.connect().execute(f\"PREPARE s AS COPY (SELECT 1 AS a) TO '{P}/x.csv'\")",
    ),
    r(
        "duckdb_statement_copy",
        DUCKDB,
        "connection.execute(a Statement from extract_statements)",
        """
        [statement] = duckdb.extract_statements(f"COPY (SELECT 1 AS a) TO '{P}/x.csv'")
        duckdb.connect().execute(statement)
        """,
    ),
    r(
        "duckdb_export_database",
        DUCKDB,
        "duckdb.execute(\"EXPORT DATABASE 'dir'\")",
        "duckdb.execute(f\"EXPORT DATABASE '{P}/export'\")",
    ),
    r(
        "duckdb_attach",
        DUCKDB,
        "connection.sql(\"ATTACH 'path'\")",
        "duckdb.connect().sql(f\"ATTACH '{P}/x.duckdb' AS x\")",
    ),
    r(
        "duckdb_write_parquet",
        DUCKDB,
        "duckdb relation .write_parquet(path)",
        "duckdb.sql('SELECT 1 AS a').write_parquet(str(P / 'x.pq'))",
    ),
    r(
        "duckdb_to_csv",
        DUCKDB,
        "duckdb relation .to_csv(path)",
        "duckdb.sql('SELECT 1 AS a').to_csv(str(P / 'seed.tsv'))",
    ),
    # -- not interceptable in-process: detected after the test ----------------------------------
    r(
        "fs_made_in_c",
        DETECTED,
        "pyarrow: a LocalFileSystem made in C (FileSystem.from_uri)",
        """
        fs, path = pafs.FileSystem.from_uri(f'file://{P}/uri.tsv')
        fs.open_output_stream(path).close()
        """,
    ),
    r(
        "subprocess_sh",
        DETECTED,
        "subprocess: sh -c 'echo > file'",
        "subprocess.run(['sh', '-c', f'echo x > {P}/sh.tsv'], check=True)",
    ),
    r(
        "subprocess_cp",
        DETECTED,
        "subprocess: cp",
        "subprocess.run(['cp', str(OUT / 'f.tsv'), str(P / 'cp.tsv')], check=True)",
    ),
    r(
        "subprocess_rm",
        DETECTED,
        "subprocess: rm",
        "subprocess.run(['rm', str(P / 'seed.tsv')], check=True)",
    ),
    r(
        "subprocess_python",
        DETECTED,
        "subprocess: another Python",
        """
        code = f"open({str(P / 'py.tsv')!r}, 'w')"
        subprocess.run([sys.executable, '-c', code], check=True)
        """,
    ),
    r(
        "ctypes_libc",
        DETECTED,
        "ctypes: libc fopen/fputs",
        """
        libc = ctypes.CDLL(None)
        libc.fopen.restype = ctypes.c_void_p
        handle = libc.fopen(str(P / 'c.tsv').encode(), b'w')
        libc.fputs(b'x', ctypes.c_void_p(handle))
        libc.fclose(ctypes.c_void_p(handle))
        """,
    ),
    r(
        "dir_fd_open",
        DETECTED,
        "os.open(name, dir_fd=fd of P)",
        """
        fd = os.open(P, os.O_RDONLY)
        os.close(os.open('dirfd.tsv', os.O_WRONLY | os.O_CREAT, dir_fd=fd))
        os.close(fd)
        """,
    ),
    r(
        "handle_opened_before",
        DETECTED,
        "a handle opened before the guard was armed",
        "EARLY.write('x')\nEARLY.flush()",
    ),
    r(
        "sqlite_attach_parameter",
        DETECTED,
        "sqlite3: ATTACH ? (the path a bound parameter: the authorizer is not told it)",
        """
        db = sqlite3.connect(':memory:')
        db.execute('ATTACH ? AS p', (str(P / 'attached.db'),))
        db.execute('CREATE TABLE p.t (x)')
        db.close()  # else the gc closes it later, in another test (a connection is a cycle)
        """,
    ),
    r(
        "sqlite_own_authorizer",
        DETECTED,
        "sqlite3: ATTACH after the test set an authorizer of its own (it replaces the guard's)",
        """
        db = sqlite3.connect(':memory:')
        db.set_authorizer(lambda *args: sqlite3.SQLITE_OK)
        db.execute(f"ATTACH '{P}/attached.db' AS p")
        db.execute('CREATE TABLE p.t (x)')
        db.close()
        """,
    ),
    # -- controls: must pass ----------------------------------------------------------------
    r("read", CONTROL, "open(path) for reading", "assert open(P / 'seed.tsv').read() == 'seed\\n'"),
    r("polars_read", CONTROL, "pl.read_csv(path)", "pl.read_csv(P / 'seed.tsv', separator='\\t')"),
    r(
        "sqlite_read_only",
        CONTROL,
        "sqlite3 mode=ro",
        "sqlite3.connect(f'file:{P}/ro.sqlite?mode=ro', uri=True).close()",
    ),
    r(
        "sqlite_attach_allowed",
        CONTROL,
        "sqlite3: ATTACH of P read-only (mode=ro), ATTACH and VACUUM INTO outside, VACUUM",
        """
        db = sqlite3.connect(OUT / 'harmless.db')
        db.execute(f"ATTACH 'file:{P}/ro.sqlite?mode=ro' AS ro")
        db.execute('SELECT * FROM ro.sqlite_master').fetchall()
        db.execute(f"ATTACH '{OUT}/other.db' AS other")
        db.execute('CREATE TABLE other.t (x)')
        db.execute("ATTACH ':memory:' AS m")
        db.execute(f"VACUUM INTO '{OUT}/copy.db'")
        db.execute('VACUUM')
        db.close()
        """,
    ),
    r(
        "write_outside",
        CONTROL,
        "writes outside the data root",
        "(OUT / 'new.tsv').write_text('x')",
    ),
    r(
        "makedirs_existing",
        CONTROL,
        "os.makedirs(existing, exist_ok=True)",
        "os.makedirs(P, exist_ok=True)",
    ),
    r(
        "remove_link_into_p",
        CONTROL,
        "removing a symlink (outside) that points into P",
        "os.remove(OUT / 'link_to_seed.tsv')",
    ),
    r(
        "test_dir",
        CONTROL,
        "writes into the test's own dir",
        "(test_artifacts_dir / 'x.tsv').write_text('x')",
    ),
    r(
        "native_reads",
        CONTROL,
        "pyarrow, duckdb, h5py reads",
        """
        pacsv.read_csv(P / 'seed.tsv')
        pa.memory_map(str(P / 'seed.tsv')).close()
        duckdb.sql(f"SELECT * FROM read_csv('{P}/seed.tsv')").fetchall()
        duckdb.connect(str(P / 'ro.duckdb'), read_only=True).close()
        h5py.File(P / 'seed.h5').close()
        """,
    ),
    r(
        "native_writes_outside",
        CONTROL,
        "pyarrow, duckdb, h5py writes outside the data root",
        """
        pq.write_table(TABLE, OUT / 'x.pq')
        duckdb.sql(f"COPY (SELECT 'TO P' AS a) TO '{OUT}/x.csv'")
        h5py.File(OUT / 'x.h5', 'w').close()
        PDF.to_parquet(OUT / 'y.pq')
        """,
    ),
    r(
        "mmap_copy_on_write",
        CONTROL,
        "mmap ACCESS_COPY of a file in P (private: never written back)",
        """
        import mmap
        with open(P / 'seed.tsv', 'rb') as f:
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
            m[0:1] = b'X'
            m.close()
        """,
    ),
    r(
        "stat_and_list",
        CONTROL,
        "stat, listdir, exists",
        "os.stat(P / 'seed.tsv'); os.listdir(P); assert (P / 'seed.tsv').exists()",
    ),
]

HEADER = """
import ctypes, io, os, pickle, shutil, sqlite3, subprocess, sys, tempfile, threading
from pathlib import Path

import duckdb
import h5py
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as pads
import pyarrow.feather as feather
import pyarrow.fs as pafs
import pyarrow.ipc as ipc
import pyarrow.orc as orc
import pyarrow.parquet as pq
import tables

ROOT = Path(os.environ["CORPUS_ROOT"])
PROTECTED = ROOT / "data" / "ensembl" / "GRCh37" / "spliceai_eval" / "meta_models"
DF = pl.DataFrame({"a": [1, 2]})
TABLE = pa.table({"a": [1, 2]})
PDF = pd.DataFrame({"a": [1, 2]})
EARLY = open(PROTECTED / "handle_opened_before" / "early.tsv", "a")
"""


def test_module() -> str:
    """The inner test module: one test per route."""
    parts = [HEADER]
    for route in ROUTES:
        body = textwrap.indent(route.code, "    ")
        parts.append(
            f"\ndef test_{route.name}(test_artifacts_dir, monkeypatch):\n"
            f"    P = PROTECTED / {route.name!r}\n"
            f"    OUT = ROOT / 'out' / {route.name!r}\n"
            f"    LINK_TO_P = ROOT / 'links' / {route.name!r}\n"
            f"{body}\n"
        )
    return "\n".join(parts)


def prepare(root: Path) -> None:
    """Make the production tree and the helpers every route expects."""
    protected = root / "data" / "ensembl" / "GRCh37" / "spliceai_eval" / "meta_models"
    (root / "links").mkdir(parents=True, exist_ok=True)
    for route in ROUTES:
        p = protected / route.name
        (p / "sub").mkdir(parents=True, exist_ok=True)
        (p / "seed.tsv").write_text("seed\n")
        out = root / "out" / route.name
        out.mkdir(parents=True, exist_ok=True)
        (out / "f.tsv").write_text("out\n")
        os.symlink(p / "seed.tsv", out / "link_to_seed.tsv")
        (p / "early.tsv").write_text("")  # opened (not created) at import by EARLY
        os.symlink(p, root / "links" / route.name)
    import sqlite3

    for name in ("sqlite_read_only", "sqlite_attach_allowed"):
        sqlite3.connect(protected / name / "ro.sqlite").close()
    duckdb.connect(str(protected / "native_reads" / "ro.duckdb")).close()
    for route in ROUTES:
        if route.name.startswith("h5py") or route.name == "native_reads":
            h5py.File(protected / route.name / "seed.h5", "w").close()


def snapshot(root: Path) -> dict[str, dict[str, object]]:
    """Per route: {relative path: (kind, size, content or mode)} of its protected dir."""
    protected = root / "data" / "ensembl" / "GRCh37" / "spliceai_eval" / "meta_models"
    result: dict[str, dict[str, object]] = {}
    for route in ROUTES:
        entries: dict[str, object] = {}
        base = protected / route.name
        for dirpath, dirnames, filenames in os.walk(base):
            for name in dirnames + filenames:
                path = Path(dirpath, name)
                st = path.lstat()
                content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
                entries[str(path.relative_to(base))] = (st.st_mode, content, st.st_mtime_ns)
        result[route.name] = entries
    return result


def run(root: Path, extra: list[str]) -> tuple[int, dict[str, object]]:
    """Run the corpus under ``root`` with ``extra`` args; (exit code, JSON report)."""
    (root / "test_corpus.py").write_text(test_module())
    report = root / "report.json"
    env = {
        **os.environ,
        "CORPUS_ROOT": str(root),
        "PYTEST_ADDOPTS": "-p no:hypothesispytest -p no:benchmark -p no:randomly",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "test_corpus.py",
            f"--artifacts-report={report}",
            "--tb=no",  # outcomes come from the report; formatting ~100 failures costs seconds
            *extra,
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.returncode, json.loads(report.read_text())


def outcomes(report: dict[str, object]) -> dict[str, tuple[str, list[str]]]:
    """Per route: (outcome, layers of its violations)."""
    found: dict[str, tuple[str, list[str]]] = {}
    for test in report["tests"]:  # type: ignore[attr-defined]
        name = test["nodeid"].split("::test_", 1)[1]
        found[name] = (test["outcome"], sorted({v["layer"] for v in test["violations"]}))
    return found


def phases(report: dict[str, object], name: str) -> set[str]:
    """The phases the violations of route ``name`` were recorded in."""
    for test in report["tests"]:  # type: ignore[attr-defined]
        if test["nodeid"].endswith(f"::test_{name}"):
            return {v["phase"] for v in test["violations"]}
    return set()


def session_paths(report: dict[str, object]) -> set[str]:
    return {v["path"] for v in report["violations"]}  # type: ignore[attr-defined]


TABLE_START = "<!-- corpus table: generated by tests/plugin/guard_corpus.py -->"
TABLE_END = "<!-- end of corpus table -->"


def table(
    serial: dict[str, tuple[str, list[str]]],
    xdist: dict[str, tuple[str, list[str]]],
    xdist_session: set[str],
) -> str:
    lines = [
        "| route | expected | serial | `-n 2` |",
        "|---|---|---|---|",
    ]

    def cell(route: Route, got: tuple[str, list[str]] | None, session: bool) -> str:
        if got is None:
            return "missing"
        outcome, layers = got
        layers = route.stopped_as(layers)
        if layers:
            return f"{outcome} ({', '.join(layers)})"
        if session:
            return f"{outcome}; session-level violation"
        return outcome

    for route in ROUTES:
        in_session = any(
            f"/{route.name}/" in p or p.endswith(f"/{route.name}") for p in xdist_session
        )
        serial_cell = cell(route, serial.get(route.name), False)
        xdist_cell = cell(route, xdist.get(route.name), in_session)
        expected = route.expected
        if expected in STOPPED[1:]:
            expected = f"stopped ({expected} writer checked)"
        elif expected == DETECTED:
            expected = "**detected only** — use `--artifacts-guard=strict`"
        lines.append(f"| {route.description} | {expected} | {serial_cell} | {xdist_cell} |")
    return "\n".join(lines)


def main() -> None:
    results = {}
    for label, extra in (("serial", ["-p", "no:xdist"]), ("xdist", ["-n", "2"])):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            prepare(root)
            _code, report = run(root, extra)
            results[label] = (outcomes(report), session_paths(report))
    text = table(results["serial"][0], results["xdist"][0], results["xdist"][1])
    doc = Path(__file__).resolve().parents[2] / "docs" / "guard.md"
    page = doc.read_text()
    pattern = re.compile(re.escape(TABLE_START) + ".*?" + re.escape(TABLE_END), re.DOTALL)
    doc.write_text(pattern.sub(lambda _: f"{TABLE_START}\n{text}\n{TABLE_END}", page))
    print(text)


if __name__ == "__main__":
    main()
