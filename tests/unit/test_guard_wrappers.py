"""Layer 2's building blocks without pytester: the wrapper mechanism on a module of our own,
the local-path rules, and the duckdb SQL scan."""

from __future__ import annotations

import io
import itertools
import os
import sqlite3
import sys
import types
import warnings

import pyarrow.fs as pafs
import pytest

from artifact_manager.errors import ProductionWriteError
from artifact_manager.guard import audit, sqlite_authorizer
from artifact_manager.guard.policy import GuardPolicy
from artifact_manager.guard.sql_targets import sql_targets
from artifact_manager.guard.writers import (
    Library,
    Wrap,
    argument,
    local_base,
    local_path,
    patch_module,
)


def write_file(path, text="x"):
    """A writer outside Python's file API, as far as the wrapper knows."""
    with open(path, "w") as f:
        f.write(text)


_names = itertools.count()


class Writer:
    def __init__(self, where):
        self.where = where


@pytest.fixture
def library():
    module = types.ModuleType(f"artifact_manager_test_writer_lib{next(_names)}")
    module.write_file = write_file
    module.Writer = type("Writer", (Writer,), {})  # a class of its own, patched per test
    module.FileIO = io.FileIO  # an immutable extension type: gets a stand-in
    table = Library(
        "fakelib",
        {
            module.__name__: (
                Wrap("write_file", argument(0, "path")),
                Wrap("Writer.__init__", argument(1, "where")),
                Wrap("FileIO.__new__", argument(1, "file")),
            )
        },
    )
    patch_module(module, table)
    return module


@pytest.fixture
def armed(tmp_path):
    guard = audit.Checker(GuardPolicy.build([tmp_path / "data"]))
    guard.enter("test_x", "call")
    (tmp_path / "data").mkdir()
    with audit.armed(guard):
        yield guard


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, p: lib.write_file(p / "x"),
        lambda lib, p: lib.write_file(path=p / "x"),
        lambda lib, p: lib.Writer(p / "x"),
        lambda lib, p: lib.FileIO(str(p / "x"), "w"),
    ],
    ids=["function", "keyword", "method", "stand-in"],
)
def test_a_wrapped_writer_is_stopped_before_it_writes(library, armed, tmp_path, call):
    with pytest.raises(ProductionWriteError):
        call(library, tmp_path / "data")
    assert not (tmp_path / "data" / "x").exists()
    [violation] = armed.take()
    assert (violation.layer, violation.phase) == ("fakelib", "call")
    assert violation.operation.startswith("write with artifact_manager_test_writer_lib")


def test_unprotected_writes_and_disarmed_calls_go_through(library, tmp_path):
    guard = audit.Checker(GuardPolicy.build([tmp_path / "data"]))
    with audit.armed(guard):
        library.write_file(tmp_path / "out.txt")
    library.write_file(tmp_path / "data.txt")  # disarmed
    (tmp_path / "data").mkdir()
    library.write_file(tmp_path / "data" / "x")  # disarmed: the guard is not asked
    assert guard.violations == []


def test_the_stand_in_is_transparent_to_isinstance(library, tmp_path):
    assert library.FileIO is not io.FileIO
    with io.FileIO(str(tmp_path / "x"), "w") as made_elsewhere:
        assert isinstance(made_elsewhere, library.FileIO)
    assert issubclass(io.FileIO, library.FileIO)
    assert library.FileIO.__name__ == "FileIO"


def test_patching_twice_wraps_once(library):
    wrapped = library.write_file
    patch_module(
        library, Library("fakelib", {library.__name__: (Wrap("write_file", argument(0, "path")),)})
    )
    assert library.write_file is wrapped
    assert not hasattr(wrapped.__wrapped__, "__wrapped__")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/a/b", "/a/b"),
        (b"/a/b", "/a/b"),
        ("file:///a/b%20c", "/a/b c"),
        ("~/a/b", os.path.expanduser("~/a/b")),  # as polars reads it
        ("s3://bucket/key", None),
        (io.BytesIO(), None),
        (3, None),
    ],
)
def test_local_path(target, expected):
    assert local_path(target) == expected


def test_local_base_of_pyarrow_file_systems(tmp_path):
    assert local_base(pafs.LocalFileSystem()) == ""
    subtree = pafs.SubTreeFileSystem(str(tmp_path), pafs.LocalFileSystem())
    assert local_base(subtree) == f"{tmp_path}/"
    assert local_base(pafs._MockFileSystem()) is None
    assert local_base(object()) is None


@pytest.mark.parametrize(
    ("sql", "targets"),
    [
        ("COPY t TO 'a.csv'", ["a.csv"]),
        ("copy (select 'to' as x, ';' as y) to 'b.parquet' (format parquet)", ["b.parquet"]),
        ("COPY t FROM 'r.csv'", []),
        ("SELECT 1; COPY t TO 'c' ; -- COPY t TO 'no'", ["c"]),
        ("/* COPY t TO 'no' */ SELECT 1", []),
        ("COPY t TO 'it''s'", ["it's"]),
        ("COPY FROM DATABASE a TO b", []),
        ("EXPORT DATABASE 'dir' (FORMAT parquet)", ["dir"]),
        ("ATTACH 'x.db' AS x (READ_ONLY)", []),
        ("ATTACH DATABASE IF NOT EXISTS 'y.db'", ["y.db"]),
        ("ATTACH 'z.db' (READ_ONLY false)", ["z.db"]),
        ("ATTACH ':memory:' AS m", []),
        ("ATTACH 'w.db' AS read_only", ["w.db"]),  # an alias, not the option
        ("COPY t TO E'esc.csv'", ["esc.csv"]),
        (r"COPY t TO e'it\'s\\x.csv'", ["it's\\x.csv"]),
        ("PREPARE s AS COPY (SELECT 1) TO 'p.csv'", ["p.csv"]),
        ("EXPLAIN ANALYZE COPY t TO 'e.csv'", ["e.csv"]),
        ('SELECT "copy" FROM t', []),
        ("SELECT 'COPY t TO x'", []),
        (None, []),
    ],
)
def test_sql_targets(sql, targets):
    assert sql_targets(sql) == targets


def test_rows_that_cannot_be_wrapped_are_skipped_not_fatal():
    module = types.ModuleType(f"artifact_manager_test_writer_lib{next(_names)}")
    module.Final = bool  # cannot be subclassed: no stand-in possible
    table = Library(
        "fakelib",
        {
            module.__name__: (
                Wrap("Final.__new__", argument(1, "path")),
                Wrap("missing_in_this_version", argument(0, "path")),
            )
        },
    )
    patch_module(module, table)
    assert module.Final is bool
    assert not hasattr(module, "missing_in_this_version")


def test_the_lazy_finder_waits_for_every_wrapped_package_and_only_those():
    from artifact_manager.guard.lazy_writers import WRAPPED_PACKAGES
    from artifact_manager.guard.libraries import LIBRARIES

    packages = {module.partition(".")[0] for lib in LIBRARIES for module in lib.modules}
    assert packages == WRAPPED_PACKAGES


def _raw_connect():
    """sqlite3's own connect (an inner pytester session in this process may have wrapped the
    real module's already: the guard stays installed there)."""
    return getattr(sqlite3.connect, "__wrapped__", sqlite3.connect)


@pytest.fixture
def sqlite_module():
    """A module of our own holding sqlite3's connect, patched as the guard patches sqlite3."""
    module = types.ModuleType(f"artifact_manager_test_sqlite{next(_names)}")
    module.connect = _raw_connect()
    module.Connection = sqlite3.Connection
    sqlite_authorizer.patch(module)
    return module


@pytest.mark.parametrize(
    ("sql", "parameters"),
    [
        ("ATTACH DATABASE '{data}/x.db' AS p", ()),
        ("ATTACH 'file:{data}/x.db?mode=rwc' AS p", ()),
        ("VACUUM INTO '{data}/x.db'", ()),
        ("VACUUM INTO ?", ("{data}/x.db",)),
    ],
    ids=["attach", "attach-uri", "vacuum-into", "vacuum-into-parameter"],
)
def test_sqlite_attach_of_a_protected_file_is_denied(
    sqlite_module, armed, tmp_path, sql, parameters
):
    data = tmp_path / "data"
    db = sqlite_module.connect(tmp_path / "out.db")
    with pytest.raises(sqlite3.DatabaseError, match=r"not authorized|authorization denied"):
        db.execute(sql.format(data=data), [p.format(data=data) for p in parameters])
    db.close()
    assert list(data.iterdir()) == []
    [violation] = armed.take()
    assert (violation.layer, violation.path) == ("prevented", str(data / "x.db"))
    assert violation.operation.startswith("attach a sqlite database")


def test_sqlite_attach_elsewhere_read_only_or_disarmed_is_allowed(sqlite_module, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    sqlite3.connect(data / "ro.db").close()
    guard = audit.Checker(GuardPolicy.build([data]))
    db = sqlite_module.connect(":memory:")
    with audit.armed(guard):
        db.execute(f"ATTACH 'file:{data}/ro.db?mode=ro' AS ro")
        db.execute(f"ATTACH '{tmp_path}/other.db' AS other")
        db.execute("ATTACH ':memory:' AS m")
        db.execute(f"ATTACH 'file:{data}/shared?mode=memory&cache=shared' AS named_memory")
        db.execute(f"VACUUM INTO '{tmp_path}/copy.db'")
        db.execute("VACUUM")  # attaches a temporary database ('')
    db.execute(f"ATTACH '{data}/later.db' AS later")  # no test running: not the guard's
    db.close()
    assert guard.violations == []
    assert sorted(p.name for p in data.iterdir()) == ["later.db", "ro.db"]


def test_a_connection_factory_of_the_users_keeps_its_own_authorizer(sqlite_module, armed, tmp_path):
    asked = []

    class Audited(sqlite3.Connection):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.set_authorizer(lambda action, *rest: asked.append(action) or sqlite3.SQLITE_OK)

    db = sqlite_module.connect(":memory:", factory=Audited)
    db.execute("SELECT 1")
    db.close()
    assert asked  # the guard did not replace it (so it does not check ATTACH: layer 3 does)


def test_sqlite_connect_is_wrapped_once_and_keeps_its_name(sqlite_module):
    wrapped = sqlite_module.connect
    sqlite_authorizer.patch(sqlite_module)
    assert sqlite_module.connect is wrapped
    assert wrapped.__name__ == "connect"
    assert wrapped.__wrapped__ is _raw_connect()


@pytest.mark.skipif(sys.version_info < (3, 13), reason="sqlite3 deprecates these in 3.13")
def test_sqlites_own_deprecation_warnings_still_name_the_callers_line(sqlite_module):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sqlite_module.connect(":memory:", 5.0).close()  # a positional timeout
    assert caught
    assert {(w.category, w.filename) for w in caught} == {(DeprecationWarning, __file__)}
