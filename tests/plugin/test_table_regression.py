"""``table_regression``: checks, failures, updates; serial and under xdist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from artifact_manager.naming import nodeid_to_test_name
from artifact_manager.plugin.options import BaselineSettings

TABLE_TESTS = """
import os
import polars as pl
import pytest


def stage_output():
    df = pl.DataFrame(
        {"gene": ["g1", "g2", "g3"], "score": [0.5, 0.25, 0.125], "label": [True, False, True]}
    )
    if os.environ.get("SCALE"):
        df = df.with_columns(score=pl.col("score") * float(os.environ["SCALE"]))
    return df


def test_stage(table_regression):
    table_regression.check(stage_output())


def test_stable(table_regression):
    table_regression.check(pl.DataFrame({"n": [1, 2, 3]}))
"""


def baselines(pytester: pytest.Pytester, module: str = "test_stages") -> Path:
    return pytester.path / "__baselines__" / module


def baseline_of(pytester: pytest.Pytester, nodeid: str, name: str | None = None) -> Path:
    module = nodeid.split("::")[0].removesuffix(".py")
    stem = nodeid_to_test_name(nodeid) + (f".{name}" if name else "")
    return baselines(pytester, module) / f"{stem}.parquet"


@pytest.fixture
def table_tests(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SCALE", raising=False)
    return pytester.makepyfile(test_stages=TABLE_TESTS)


def test_a_missing_baseline_fails_and_nothing_is_written(pytester, table_tests, plugin_args):
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*BaselineMismatchError: no baseline __baselines__/test_stages/"
            "test_stages.test_stage-*",
            "*run with --update-baselines to create it: "
            "pytest --update-baselines test_stages.py::test_stage",
        ]
    )
    assert not (pytester.path / "__baselines__").exists()


def test_update_baselines_writes_missing_ones_and_the_next_run_passes(
    pytester, table_tests, plugin_args
):
    result = pytester.runpytest(*plugin_args, "--update-baselines")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*- table baselines -*",
            "wrote 2 table baseline(s) (--update-baselines):",
            "  __baselines__/test_stages/test_stages.test_stable-*.parquet  (missing)",
            "  __baselines__/test_stages/test_stages.test_stage-*.parquet  (missing)",
        ]
    )
    path = baseline_of(pytester, "test_stages.py::test_stage")
    written = pl.read_parquet(path)
    assert written.schema == pl.Schema(
        {"gene": pl.String, "score": pl.Float64, "label": pl.Boolean}
    )
    assert written["score"].to_list() == [0.5, 0.25, 0.125]
    again = pytester.runpytest(*plugin_args)
    again.assert_outcomes(passed=2)
    assert "table baselines" not in again.stdout.str()


def test_baseline_names_come_from_the_node_id_the_same_serial_and_under_xdist(
    pytester, table_tests
):
    pytester.runpytest("--update-baselines").assert_outcomes(passed=2)
    serial = sorted(p.name for p in baselines(pytester).iterdir())
    assert serial == sorted(
        f"{nodeid_to_test_name(f'test_stages.py::{name}')}.parquet"
        for name in ("test_stage", "test_stable")
    )
    for path in baselines(pytester).iterdir():
        path.unlink()
    pytester.runpytest("-n", "2", "--update-baselines").assert_outcomes(passed=2)
    assert sorted(p.name for p in baselines(pytester).iterdir()) == serial


def test_a_mismatch_fails_with_the_diff_and_the_actual_table_is_kept(
    pytester, table_tests, plugin_args, monkeypatch, tests_root
):
    pytester.runpytest("--update-baselines").assert_outcomes(passed=2)
    monkeypatch.setenv("SCALE", "1.1")
    result = pytester.runpytest(*plugin_args, "--keep-artifacts=failed")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*BaselineMismatchError: table differs from its baseline "
            "__baselines__/test_stages/test_stages.test_stage-*.parquet",
            "E       actual table: data/*/tests/test_stages.test_stage-*/meta_models/predictions/"
            "test_stages.test_stage-*.actual.parquet (kept with --keep-artifacts=failed)",
            "E       values: 3 of 3 compared rows differ, in 1 column(s):",
            "E         column  dtype    off  max abs err  max rel err",
            "E         score   Float64  3    0.05         0.1",
            "E       differing rows (3 of 3):",
            "E         row  gene | score",
            "E                   | expected   actual",
            "E         0    'g1' | 0.5        0.55",
            "E         1    'g2' | 0.25       0.275",
            "E       if the change is intended, update the baseline: "
            "pytest --update-baselines test_stages.py::test_stage",
        ]
    )
    name = nodeid_to_test_name("test_stages.py::test_stage")
    actual = tests_root / name / "meta_models" / "predictions" / f"{name}.actual.parquet"
    assert pl.read_parquet(actual)["score"].to_list() == pytest.approx([0.55, 0.275, 0.1375])


def test_the_actual_table_goes_with_the_test_dir_when_not_kept(
    pytester, table_tests, plugin_args, tests_root
):
    pytester.runpytest(*plugin_args).assert_outcomes(failed=2)
    assert not tests_root.exists() or list(tests_root.glob("test_stages*")) == []


def test_update_baselines_rewrites_only_those_that_differ_or_are_missing(
    pytester, table_tests, plugin_args, monkeypatch
):
    pytester.runpytest("--update-baselines").assert_outcomes(passed=2)
    stable = baseline_of(pytester, "test_stages.py::test_stable")
    before = stable.stat().st_mtime_ns, stable.stat().st_ino
    monkeypatch.setenv("SCALE", "2")
    result = pytester.runpytest(*plugin_args, "--update-baselines")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "wrote 1 table baseline(s) (--update-baselines):",
            "  __baselines__/test_stages/test_stages.test_stage-*.parquet  (differed)",
        ]
    )
    assert (stable.stat().st_mtime_ns, stable.stat().st_ino) == before
    stage = pl.read_parquet(baseline_of(pytester, "test_stages.py::test_stage"))
    assert stage["score"].to_list() == [1.0, 0.5, 0.25]
    pytester.runpytest(*plugin_args).assert_outcomes(passed=2)


def test_update_baselines_all_rewrites_every_checked_baseline(pytester, table_tests, plugin_args):
    pytester.runpytest("--update-baselines").assert_outcomes(passed=2)
    stable = baseline_of(pytester, "test_stages.py::test_stable")
    before = stable.stat().st_ino
    result = pytester.runpytest(*plugin_args, "--update-baselines=all")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "wrote 2 table baseline(s) (--update-baselines=all):",
            "  __baselines__/test_stages/test_stages.test_stable-*.parquet  (rewritten)",
            "  __baselines__/test_stages/test_stages.test_stage-*.parquet  (rewritten)",
        ]
    )
    assert stable.stat().st_ino != before  # a new file renamed over the old one
    assert [p.name for p in baselines(pytester).iterdir() if p.name.startswith(".")] == []


def test_a_bare_update_flag_does_not_swallow_the_path_after_it(pytester, table_tests):
    pytester.makepyfile(test_other="def test_other():\n    pass\n")
    result = pytester.runpytest("--update-baselines", "test_other.py")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "__baselines__").exists()


def test_update_baselines_none_writes_nothing(pytester, table_tests):
    pytester.runpytest("--update-baselines=none").assert_outcomes(failed=2)
    assert not (pytester.path / "__baselines__").exists()


def test_parametrized_cases_and_named_checks_get_their_own_baselines(pytester, plugin_args):
    pytester.makepyfile(
        test_cases="""
        import polars as pl
        import pytest

        @pytest.mark.parametrize("n", [1, 2])
        def test_case(table_regression, n):
            table_regression.check(pl.DataFrame({"n": [n]}))
            table_regression.check(pl.DataFrame({"twice": [2 * n]}), "twice")
        """
    )
    pytester.runpytest(*plugin_args, "--update-baselines").assert_outcomes(passed=2)
    for n in (1, 2):
        nodeid = f"test_cases.py::test_case[{n}]"
        assert pl.read_parquet(baseline_of(pytester, nodeid))["n"].to_list() == [n]
        twice = pl.read_parquet(baseline_of(pytester, nodeid, "twice"))
        assert twice["twice"].to_list() == [2 * n]
    assert len(list(baselines(pytester, "test_cases").iterdir())) == 4
    pytester.runpytest(*plugin_args).assert_outcomes(passed=2)


def test_checking_the_same_baseline_twice_in_one_test_is_an_error(pytester):
    pytester.makepyfile(
        """
        import polars as pl

        def test_twice(table_regression):
            table_regression.check(pl.DataFrame({"a": [1]}), "same")
            table_regression.check(pl.DataFrame({"a": [2]}), "same")
        """
    )
    result = pytester.runpytest("--update-baselines")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*ValueError: table_regression.check() already checked *.same.parquet in this test; "
         "give each check its own name=*"]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("check(df, 'a/b')", "*invalid name='a/b'*"),
        ("check(df, sort_by='nope')", "*sort_by*'nope' not in the table*"),
        ("check(df, rtol={'nope': 1.0})", "*rtol*'nope' not in the table*"),
        ("check(df, atol=-1)", "*atol*must be a finite number >= 0*"),
        ("check([1, 2])", "*TypeError: table_regression.check() takes a polars DataFrame*"),
    ],
    ids=["bad-name", "unknown-sort-key", "unknown-tolerance-column", "negative-atol", "list"],
)
def test_bad_arguments_fail_naming_the_value(pytester, call, message):
    pytester.makepyfile(
        f"""
        import polars as pl

        def test_bad(table_regression):
            df = pl.DataFrame({{"a": [1.0]}})
            table_regression.{call}
        """
    )
    result = pytester.runpytest("--update-baselines")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message])
    assert not (pytester.path / "__baselines__").exists()


def test_tolerances_per_column_and_row_order_options(pytester, plugin_args, monkeypatch):
    pytester.makepyfile(
        test_tol="""
        import os
        import polars as pl

        def frame():
            df = pl.DataFrame({"k": [3, 1, 2], "x": [1.0, 2.0, 3.0], "n": [10, 20, 30]})
            if os.environ.get("NOISE"):
                df = df.with_columns(x=pl.col("x") + 1e-4, n=pl.col("n") + 1).reverse()
            return df

        def test_tolerant(table_regression):
            table_regression.check(
                frame(), rtol={"x": 1e-3}, atol={"n": 1}, check_row_order=False
            )

        def test_sorted(table_regression):
            table_regression.check(frame(), sort_by="k", rtol=1e-3, atol={"n": 1})

        def test_strict(table_regression):
            table_regression.check(frame(), sort_by=["k"])
        """
    )
    pytester.runpytest("--update-baselines").assert_outcomes(passed=3)
    monkeypatch.setenv("NOISE", "1")
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*table differs from its baseline __baselines__/test_tol/test_tol.test_strict-*",
            "E         x       Float64  3    0.0001*",
            "E         n       Int64    3    1  *",
            "E       (rows compared after sorting by k)",
        ]
    )


def test_a_schema_change_is_reported_before_values(pytester, monkeypatch):
    pytester.makepyfile(
        test_schema="""
        import os
        import polars as pl

        def test_schema(table_regression):
            df = pl.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [0.5, 1.5]})
            if os.environ.get("CHANGE"):
                df = df.select(pl.col("b"), pl.col("a").cast(pl.Int32), d=pl.lit(True))
            table_regression.check(df)
        """
    )
    pytester.runpytest("--update-baselines").assert_outcomes(passed=1)
    monkeypatch.setenv("CHANGE", "1")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       schema:",
            "E         missing columns (in the baseline, not in actual): c (Float64)",
            "E         extra columns (in actual, not in the baseline): d (Boolean)",
            "E         dtype changed: a: Int64 -> Int32",
            "E         column order: expected a, b; actual b, a",
        ]
    )


def test_a_test_passes_after_a_rerun_that_matches(pytester, plugin_args):
    pytester.makepyfile(
        test_flaky="""
        import polars as pl

        ATTEMPTS = []

        def test_flaky(table_regression):
            ATTEMPTS.append(1)
            table_regression.check(pl.DataFrame({"a": [len(ATTEMPTS) > 1]}))
        """
    )
    path = baseline_of(pytester, "test_flaky.py::test_flaky")
    path.parent.mkdir(parents=True)
    pl.DataFrame({"a": [True]}).write_parquet(path)
    result = pytester.runpytest(*plugin_args, "--reruns", "1")
    outcomes = result.parseoutcomes()
    assert (outcomes.get("passed"), outcomes.get("rerun"), outcomes.get("failed")) == (1, 1, None)


@pytest.mark.parametrize(
    ("args", "update", "prune"),
    [
        ([], "none", False),
        (["--update-baselines"], "failed", False),
        (["--update-baselines=failed"], "failed", False),
        (["--update-baselines=all"], "all", False),
        (["--update-baselines=all", "--update-baselines=none"], "none", False),
        (["--prune-baselines"], "none", True),
    ],
    ids=["default", "bare", "failed", "all", "last-wins", "prune"],
)
def test_baseline_settings_resolve_from_the_command_line(pytester, args, update, prune):
    settings = BaselineSettings.from_config(pytester.parseconfigure(*args))
    assert (settings.update, settings.prune) == (update, prune)


def test_the_baseline_options_show_once_in_help(pytester):
    result = pytester.runpytest("--help")
    lines = result.stdout.lines
    assert sum(line.startswith("  --update-baselines") for line in lines) == 1
    assert sum(line.startswith("  --prune-baselines") for line in lines) == 1


@pytest.mark.slow  # see pyproject: deselected by the lowest-versions CI leg
def test_many_workers_write_many_baselines_atomically(pytester):
    pytester.makepyfile(
        test_many="""
        import polars as pl
        import pytest

        @pytest.mark.parametrize("n", range(24))
        def test_case(table_regression, n):
            table_regression.check(pl.DataFrame({"n": list(range(n))}).lazy(), "lazy")
        """
    )
    pytester.runpytest("-n", "2", "--update-baselines").assert_outcomes(passed=24)
    files = sorted(p.name for p in baselines(pytester, "test_many").iterdir())
    assert len(files) == 24
    assert all(name.endswith(".lazy.parquet") for name in files)
    for n in range(24):
        frame = pl.read_parquet(baseline_of(pytester, f"test_many.py::test_case[{n}]", "lazy"))
        assert frame["n"].to_list() == list(range(n))
    pytester.runpytest("-n", "2").assert_outcomes(passed=24)


@pytest.mark.parametrize("corrupt", ["not parquet", "makes polars panic"])
def test_an_unreadable_baseline_fails_clearly_and_can_be_rewritten(
    pytester, table_tests, tmp_path_factory, corrupt
):
    # A panic (pyo3's PanicException) is a BaseException: it must be caught as well.
    if corrupt == "not parquet":
        content = b"not parquet at all"
    else:
        content = panicking_parquet(tmp_path_factory.mktemp("panic")).read_bytes()
    path = baseline_of(pytester, "test_stages.py::test_stable")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    result = pytester.runpytest("-k", "stable")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*BaselineMismatchError: baseline __baselines__/test_stages/"
            "test_stages.test_stable-*.parquet cannot be read: *",
            "E       run with --update-baselines to rewrite it: *",
        ]
    )
    assert path.read_bytes() == content  # nothing lost unless asked
    result = pytester.runpytest("-k", "stable", "--update-baselines")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["  __baselines__/test_stages/test_stages.test_stable-*  (unreadable)"]
    )
    assert pl.read_parquet(path)["n"].to_list() == [1, 2, 3]


def test_a_sort_key_new_in_the_actual_table_is_a_diff_and_the_update_rewrites_it(
    pytester, plugin_args, monkeypatch
):
    monkeypatch.delenv("KEYED", raising=False)
    pytester.makepyfile(
        test_keyed="""
        import os
        import polars as pl

        def test_stage(table_regression):
            df = pl.DataFrame({"score": [0.5, 0.25, 0.125]})
            if os.environ.get("KEYED"):  # the stage now emits a key, and the test sorts by it
                df = pl.DataFrame({"gene_id": ["g3", "g1", "g2"], "score": [0.5, 0.3, 0.125]})
            table_regression.check(df, sort_by="gene_id" if os.environ.get("KEYED") else None)
        """
    )
    pytester.runpytest("--update-baselines").assert_outcomes(passed=1)
    monkeypatch.setenv("KEYED", "1")
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E         extra columns (in actual, not in the baseline): gene_id (String)",
            "E         score   Float64  1    0.05         0.2",
        ]
    )
    assert "sorting by" not in result.stdout.str()
    result = pytester.runpytest(*plugin_args, "--update-baselines")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["  __baselines__/test_keyed/test_keyed.test_stage-*  (differed)"])
    assert pl.read_parquet(baseline_of(pytester, "test_keyed.py::test_stage")).columns == [
        "gene_id",
        "score",
    ]
    pytester.runpytest(*plugin_args).assert_outcomes(passed=1)


#: pl.DataFrame({"n": [1, 2, 3]}) as parquet (polars 2.1); one byte changed at one of these
#: offsets makes some polars release panic (a Rust panic: not an ``Exception``) reading it.
PARQUET = bytes.fromhex(
    "5041523115041530153a4c15061500000028b52ffd2018a5000060010002000300000000000000020060e0"
    "0160011500151415262c15061510150615061c360028080300000000000000180801000000000000000000"
    "0028b52ffd200a51000002000000060102032400150419350006101918016e150c160616b00116cc01265c"
    "26081c36002808030000000000000018080100000000000000000019110219180801000000000000001918"
    "080300000000000000150019160000191c165c1578160000001502192c4804726f6f741502001504250218"
    "016e001606191c191c26a8021c150419350006101918016e150c160616b00116cc01265c26081c36002808"
    "030000000000000018080100000000000000000016f602151416b802153e0016b0011606260816cc011400"
    "00191c180c4152524f573a736368656d6118a8012f2f2f2f2f335941414141454141414138762f2f2f7851"
    "4141414145414145414141414b414173414341414b414151412b502f2f2f77774141414149414167414141"
    "414541414541414141454141414137502f2f2f7a6741414141674141414147414141414145434141415141"
    "42494142414151414245414341414141417741414141414150542f2f2f3941414141414151414141416741"
    "4351414541416741415141414147344100184e506f6c6172732028707974686f6e292076657273696f6e20"
    "322e312e3020286275696c6420376639303262643366666432376666383264313432373861303961323935"
    "6666326637616564393229191c1c0000007b01000050415231"
)
PANIC_PATCHES = [(54, 62), (7, 0)]  # polars 2.1; polars 1.0


def panicking_parquet(tmp_path: Path) -> Path:
    """A corrupt parquet file this polars panics on (checked in a child process: a panic of
    another kind, or an abort, must not take this process down)."""
    probe = (
        "import sys, polars as pl\n"
        "try:\n    pl.read_parquet(sys.argv[1])\n"
        "except Exception:\n    sys.exit(3)\n"
        "except BaseException as error:\n"
        "    sys.exit(0 if type(error).__name__ == 'PanicException' else 4)\n"
        "sys.exit(2)\n"
    )
    for offset, value in PANIC_PATCHES:
        data = bytearray(PARQUET)
        data[offset] = value
        path = tmp_path / f"panic-{offset}-{value}.parquet"
        path.write_bytes(bytes(data))
        env = {**os.environ, "RUST_BACKTRACE": "0"}
        done = subprocess.run(
            [sys.executable, "-c", probe, str(path)], env=env, capture_output=True, check=False
        )
        if done.returncode == 0:
            return path
    pytest.skip(f"no corrupt parquet file known to make polars {pl.__version__} panic")


def test_a_dir_at_the_baseline_path_fails_naming_it_and_is_never_replaced(pytester, table_tests):
    path = baseline_of(pytester, "test_stages.py::test_stable")
    (path / "inside").mkdir(parents=True)
    result = pytester.runpytest("-k", "stable")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*BaselineMismatchError: baseline __baselines__/test_stages/"
            "test_stages.test_stable-*.parquet cannot be read: it is a directory, not a file",
            "E       move that aside, then run with --update-baselines to write the baseline: *",
        ]
    )
    result = pytester.runpytest("-k", "stable", "--update-baselines")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E   *ArtifactPathError: '*test_stages.test_stable-*.parquet': cannot be written: "
            "it is a directory, not a file; move that aside*"
        ]
    )
    assert (path / "inside").is_dir()
    assert "IsADirectoryError" not in result.stdout.str()


def test_a_table_polars_cannot_compare_fails_clearly_in_both_modes(pytester):
    pytester.makepyfile(
        test_objects="""
        import polars as pl

        def test_objects(table_regression):
            objects = pl.Series([object(), object()], dtype=pl.Object)
            table_regression.check(pl.DataFrame({"o": objects}), check_row_order=False)
        """
    )
    path = baseline_of(pytester, "test_objects.py::test_objects")
    path.parent.mkdir(parents=True)
    pl.DataFrame({"o": ["a", "b"]}).write_parquet(path)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*BaselineMismatchError: table could not be compared with its baseline "
            "__baselines__/test_objects/test_objects.test_objects-*.parquet "
            "(InvalidOperationError: *",
            "E       if the change is intended, update the baseline: *",
        ]
    )
    result = pytester.runpytest("--update-baselines")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E   *ArtifactUsageError: write_baseline: 'o' has dtype Object, which parquet cannot "
            "store*"
        ]
    )
    assert pl.read_parquet(path)["o"].to_list() == ["a", "b"]
