"""Layer 2 in a session, beyond the corpus: installed only when the guard is on, lazily, with
no import of its own; references bound before the session are covered; the stand-ins for
pyarrow's extension types stay transparent."""

from __future__ import annotations

import textwrap

# at module level: pytester drops the modules a test imports, and duckdb aborts when imported
# a second time in one process
import duckdb
import pytest

PROD = "data/ensembl/GRCh37/spliceai_eval/meta_models"

INSTALLED = """
import sys

def finder_installed():  # the writers' own finder, or the one that loads them on first use
    writers = sys.modules.get("artifact_manager.guard.writers")
    return any(
        type(f).__name__ == "_FirstImport" or (writers is not None and f is writers._finder)
        for f in sys.meta_path
    )

def guarded(function):
    return getattr(function, "__artifact_manager_guarded__", False)
"""


def test_guard_off_installs_no_wrapper(pytester):
    pytester.makepyfile(
        INSTALLED
        + textwrap.dedent(
            """
        import polars
        import pyarrow.parquet

        def test_nothing_wrapped():
            assert not finder_installed()
            assert not guarded(pyarrow.parquet.write_table)
            assert not guarded(polars.DataFrame.write_csv)
        """
        )
    )
    pytester.runpytest_subprocess("--artifacts-guard=off").assert_outcomes(passed=1)


def test_guard_on_imports_no_library_and_wraps_one_when_it_is_imported(pytester):
    pytester.makepyfile(
        INSTALLED
        + textwrap.dedent(
            """
        def test_lazy():
            assert finder_installed()
            for name in ("pyarrow", "pandas", "h5py", "tables", "duckdb"):
                assert name not in sys.modules, name
            # nor the wrappers' tables, until a package they wrap is imported
            assert "artifact_manager.guard.libraries" not in sys.modules
            import polars  # the first: it loads the wrappers, and is patched itself
            assert guarded(polars.DataFrame.write_csv)
            import pyarrow.parquet
            assert guarded(pyarrow.parquet.write_table)
            assert "duckdb" not in sys.modules
            # a module imported again is a new object, patched again
            import importlib
            first = importlib.import_module("pyarrow.feather")
            del sys.modules["pyarrow.feather"]
            again = importlib.import_module("pyarrow.feather")
            assert again is not first and guarded(again.write_feather)
        """
        )
    )
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=1)


def test_a_writer_bound_before_the_session_is_stopped(pytester, production):
    # the conftest is imported before the plugin configures the guard
    pytester.makeconftest("from pyarrow.parquet import write_table as EARLY_WRITE_TABLE\n")
    pytester.makepyfile(
        f"""
        import pyarrow as pa
        from conftest import EARLY_WRITE_TABLE

        def test_early_binding():
            EARLY_WRITE_TABLE(pa.table({{"a": [1]}}), {str(production / "p.tsv")!r})
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*blocked: write with pyarrow.parquet.write_table*p.tsv*"])
    assert (production / "p.tsv").read_text() == "production\n"


def test_pyarrow_stand_ins_are_transparent(pytester):
    pytester.makepyfile(
        """
        import pickle
        import pyarrow as pa
        import pyarrow.csv
        import pyarrow.fs as fs
        import pyarrow.lib

        def test_types(tmp_path):
            assert fs.LocalFileSystem is not pyarrow._fs.LocalFileSystem  # a stand-in
            made_in_c, _ = fs.FileSystem.from_uri("file:///")
            assert isinstance(made_in_c, fs.LocalFileSystem)
            assert isinstance(fs.LocalFileSystem(), pyarrow._fs.LocalFileSystem)
            assert issubclass(pyarrow._fs.LocalFileSystem, fs.LocalFileSystem)
            assert isinstance(pickle.loads(pickle.dumps(fs.LocalFileSystem())), fs.LocalFileSystem)
            with pa.OSFile(str(tmp_path / "x"), "wb") as out:
                out.write(b"x")
            assert isinstance(pa.input_stream(str(tmp_path / "x")), pa.NativeFile)
            assert isinstance(pyarrow.lib.OSFile(str(tmp_path / "x")), pa.OSFile)
            assert pa.OSFile.__name__ == "OSFile"
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("code", "stopped"),
    [
        ("h5py.File(P / 'f.h5', driver='core', backing_store=False, mode='w').close()", False),
        ("h5py.File(P / 'f.h5', 'w').close()", True),
        ("duckdb.connect(str(P / 'ro.duckdb'), read_only=True).close()", False),
        (
            "duckdb.connect(str(P / 'ro.duckdb'), config={'access_mode': 'READ_ONLY'}).close()",
            False,
        ),
        ("duckdb.connect(':memory:').close()", False),
        ("duckdb.sql(f\"ATTACH '{P}/ro.duckdb' AS r (READ_ONLY)\")", False),
        ("duckdb.sql(f\"COPY (SELECT 1 AS a) TO '{OUT}/x.csv'\")", False),
        ("duckdb.sql(f\"COPY (SELECT 1 AS a) TO 'file://{P}/x.csv'\")", True),
        ("pq.write_table(pa.table({'a': [1]}), 'file://' + str(P / 'x.pq'))", True),
        ("pa.memory_map(str(P / 'p.tsv')).close()", False),
    ],
    ids=[
        "h5py-in-memory",
        "h5py-write",
        "duckdb-read-only",
        "duckdb-read-only-config",
        "duckdb-memory",
        "duckdb-attach-read-only",
        "duckdb-copy-outside",
        "duckdb-copy-file-uri",
        "pyarrow-file-uri",
        "pyarrow-map-for-reading",
    ],
)
def test_modes_and_options_decide(pytester, production, tmp_path, code, stopped):
    duckdb.connect(str(production / "ro.duckdb")).close()
    pytester.makepyfile(
        f"""
        from pathlib import Path
        import duckdb, h5py, pyarrow as pa, pyarrow.parquet as pq

        P = Path({str(production)!r})
        OUT = Path({str(tmp_path)!r})

        def test_route():
            {code}
        """
    )
    result = pytester.runpytest_subprocess()
    if stopped:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["*blocked: write with*"])
    else:
        result.assert_outcomes(passed=1)


HELP_PROBE = """
import sys

import pytest

pytest.main(["--help"])
from artifact_manager.guard import audit

finder = any(type(f).__name__ in {"PatchAfterImport", "_FirstImport"} for f in sys.meta_path)
print("INSTALLED", audit._installed, finder)
"""


def test_pytest_help_installs_no_hook_and_no_wrapper(pytester):
    result = pytester.run(__import__("sys").executable, "-c", HELP_PROBE)
    assert "INSTALLED False False" in result.stdout.str()
    assert "--artifacts-guard" in result.stdout.str()  # the plugin was loaded all the same
