"""Baseline files: paths, atomic writes, listing, owners, unused, pruning; a round-trip property."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artifact_manager.errors import ArtifactConfigError, ArtifactPathError, ArtifactUsageError
from artifact_manager.naming import nodeid_to_test_name
from artifact_manager.regression import (
    CompareOptions,
    baseline_dir,
    baseline_path,
    compare_tables,
    find_unused,
    list_baselines,
    owner_of,
    prune,
    read_baseline,
    write_baseline,
)
from artifact_manager.regression.store import in_the_way

TEST_FILE = Path("/project/tests/io/test_tables.py")
NAME = nodeid_to_test_name("tests/io/test_tables.py::test_write[a-1]")


def test_a_baseline_lives_beside_its_test_file_named_after_the_test():
    assert baseline_dir(TEST_FILE) == Path("/project/tests/io/__baselines__/test_tables")
    assert baseline_path(TEST_FILE, NAME) == baseline_dir(TEST_FILE) / f"{NAME}.parquet"
    assert baseline_path(TEST_FILE, NAME, "scores.v2") == (
        baseline_dir(TEST_FILE) / f"{NAME}.scores.v2.parquet"
    )


@pytest.mark.parametrize("name", ["", "a/b", "..", "a..b", ".hidden", "x" * 101, "a b", 3])
def test_a_check_name_must_be_a_plain_file_name_part(name):
    with pytest.raises(ArtifactConfigError) as caught:
        baseline_path(TEST_FILE, NAME, name)
    assert caught.value.field == "name"
    assert "e.g. name='scores'" in str(caught.value)


def test_writes_are_atomic_and_replace_the_old_baseline(tmp_path):
    path = tmp_path / "__baselines__" / "test_m" / "t-0123456789ab.parquet"
    write_baseline(pl.DataFrame({"a": [1]}), path)
    first_inode = path.stat().st_ino
    write_baseline(pl.DataFrame({"a": [2]}), path)
    assert read_baseline(path)["a"].to_list() == [2]
    assert path.stat().st_ino != first_inode  # a new file renamed over the old one
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp left


def test_listing_skips_temp_files_dirs_and_other_suffixes(tmp_path):
    for name in ("b.parquet", "a.parquet", ".artifacts.tmp-x-a.parquet", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "dir.parquet").mkdir()
    assert [p.name for p in list_baselines(tmp_path)] == ["a.parquet", "b.parquet"]
    assert list_baselines(tmp_path / "missing") == []


def test_the_owner_of_a_baseline_is_found_among_the_collected_test_names():
    other = nodeid_to_test_name("tests/io/test_tables.py::test_write")
    names = {NAME, other}
    assert owner_of(f"{NAME}.parquet", names) == NAME
    assert owner_of(f"{NAME}.with-x-0123456789ab.parquet", names) == NAME
    assert owner_of(f"{other}.scores.parquet", names) == other
    assert owner_of(f"{NAME}.parquet", {other}) is None
    assert owner_of("random.parquet", names) is None


def test_unused_baselines_are_unchecked_and_unowned_or_owned_by_a_passing_test(tmp_path):
    names = {key: nodeid_to_test_name(f"test_m.py::test_{key}") for key in "pfsu"}
    files = {
        "checked": f"{names['p']}.parquet",
        "passed_unchecked": f"{names['p']}.old.parquet",
        "failed": f"{names['f']}.parquet",
        "skipped": f"{names['s']}.parquet",
        "not_run": f"{names['u']}.parquet",
        "no_owner": f"{nodeid_to_test_name('test_m.py::test_gone')}.parquet",
    }
    for file in files.values():
        (tmp_path / file).write_bytes(b"")
    outcomes = {names["p"]: "passed", names["f"]: "failed", names["s"]: "skipped"}
    outcomes[names["u"]] = "not run"
    unused = find_unused([tmp_path], [str(tmp_path / files["checked"])], outcomes)
    assert sorted(p.name for p in unused) == sorted([files["passed_unchecked"], files["no_owner"]])


def test_pruning_removes_a_symlink_never_its_target(tmp_path):
    target = tmp_path / "precious.parquet"
    target.write_bytes(b"keep")
    link = tmp_path / "link.parquet"
    link.symlink_to(target)
    plain = tmp_path / "old.parquet"
    plain.write_bytes(b"")
    assert prune([link, plain, tmp_path / "gone.parquet"]) == [link, plain]
    assert target.read_bytes() == b"keep"
    assert not os.path.lexists(link)


def test_the_regression_core_imports_no_pytest():
    code = (
        "import sys, artifact_manager.regression;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# -- property: a frame matches its own baseline after a parquet round trip ----------------

UTC = dt.timezone.utc
_TEXT = st.text(max_size=8)
_COLUMNS = {
    "i8": (pl.Int8, st.integers(-128, 127)),
    "i64": (pl.Int64, st.integers(-(2**63), 2**63 - 1)),
    "u32": (pl.UInt32, st.integers(0, 2**32 - 1)),
    "f32": (pl.Float32, st.floats(width=32)),
    "f64": (pl.Float64, st.floats()),
    "bool": (pl.Boolean, st.booleans()),
    "str": (pl.String, _TEXT),
    "bin": (pl.Binary, st.binary(max_size=8)),
    "date": (pl.Date, st.dates()),
    "dt_utc": (pl.Datetime("us", "UTC"), st.datetimes(timezones=st.just(UTC))),
    "dt_ms": (pl.Datetime("ms"), st.datetimes()),
    "dur": (pl.Duration("us"), st.timedeltas(dt.timedelta(days=-99999), dt.timedelta(days=99999))),
    "cat": (pl.Categorical, st.sampled_from(["a", "b", "c"])),
    "list_f": (pl.List(pl.Float64), st.lists(st.floats() | st.none(), max_size=3)),
    "list_s": (pl.List(pl.String), st.lists(_TEXT, max_size=3)),
    "struct": (
        pl.Struct({"n": pl.Int64, "x": pl.Float64}),
        st.fixed_dictionaries({"n": st.integers(-5, 5), "x": st.floats()}),
    ),
    "nulls": (pl.Null, st.none()),
}


@st.composite
def frames(draw: st.DrawFn) -> pl.DataFrame:
    rows = draw(st.integers(0, 12))
    kinds = draw(st.lists(st.sampled_from(sorted(_COLUMNS)), min_size=1, max_size=6, unique=True))
    columns = []
    for kind in kinds:
        dtype, values = _COLUMNS[kind]
        data = draw(st.lists(values | st.none(), min_size=rows, max_size=rows))
        columns.append(pl.Series(kind, data, dtype=dtype))
    return pl.DataFrame(columns)


@pytest.mark.slow  # see pyproject: deselected by the lowest-versions CI leg
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
def test_a_frame_always_matches_its_own_baseline(tmp_path_factory, frame):
    path = tmp_path_factory.mktemp("roundtrip") / "t-0123456789ab.parquet"
    write_baseline(frame, path)
    baseline = read_baseline(path)
    diff = compare_tables(baseline, frame)
    assert diff.equal, "\n".join(diff.lines())
    assert baseline.schema == frame.schema
    reversed_rows = frame[list(range(frame.height))[::-1]]  # (reverse() loses List dtypes)
    unordered = compare_tables(baseline, reversed_rows, CompareOptions(check_row_order=False))
    assert unordered.equal, "\n".join(unordered.lines())


def test_a_dir_at_a_baseline_or_a_file_where_its_dirs_go_is_an_error_naming_it(tmp_path):
    frame = pl.DataFrame({"a": [1]})
    taken = tmp_path / "__baselines__" / "test_x" / "t.parquet"
    taken.mkdir(parents=True)
    (taken / "kept").write_bytes(b"")
    assert in_the_way(taken) == "it is a directory, not a file"
    with pytest.raises(ArtifactPathError) as caught:
        write_baseline(frame, taken)
    assert caught.value.value == str(taken)
    assert "it is a directory, not a file; move that aside" in str(caught.value)
    assert (taken / "kept").exists()
    blocked = tmp_path / "other" / "__baselines__"
    blocked.parent.mkdir()
    blocked.write_bytes(b"not a dir")
    path = blocked / "test_x" / "t.parquet"
    assert in_the_way(path) == f"{blocked} is a file, not a directory"
    with pytest.raises(ArtifactPathError, match="is a file, not a directory"):
        write_baseline(frame, path)
    assert blocked.read_bytes() == b"not a dir"
    assert in_the_way(tmp_path / "new" / "t.parquet") is None


def test_a_frame_parquet_cannot_store_is_an_error_naming_the_column(tmp_path):
    path = tmp_path / "t.parquet"
    frame = pl.DataFrame({"a": [1], "o": pl.Series([object()], dtype=pl.Object)})
    with pytest.raises(ArtifactUsageError) as caught:
        write_baseline(frame, path)
    assert caught.value.value == "o"
    assert "has dtype Object, which parquet cannot store" in str(caught.value)
    assert not path.exists()
    assert list_baselines(tmp_path) == []


def test_a_symlinked_baseline_dir_may_be_shared_and_is_never_judged(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    theirs = shared / f"{nodeid_to_test_name('test_b.py::test_y')}.parquet"
    theirs.write_bytes(b"")
    linked = tmp_path / "tests" / "__baselines__" / "test_a"
    linked.parent.mkdir(parents=True)
    linked.symlink_to(shared)
    assert find_unused([linked], [], {}) == []
    whole = tmp_path / "elsewhere" / "__baselines__"
    whole.parent.mkdir()
    whole.symlink_to(tmp_path / "tests" / "__baselines__")
    assert find_unused([whole / "test_a"], [], {}) == []
    real = tmp_path / "own" / "__baselines__" / "test_a"
    real.mkdir(parents=True)
    (real / theirs.name).write_bytes(b"")
    assert find_unused([real], [], {}) == [real / theirs.name]
