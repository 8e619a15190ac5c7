"""Unused table baselines: listed after a full run only, pruned on request, never else."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from artifact_manager.naming import nodeid_to_test_name

SUITE = """
import polars as pl
import pytest


def test_fails_before_checking(table_regression):
    assert False, "fails before its check"
    table_regression.check(pl.DataFrame({"a": [1]}))


def test_checks(table_regression):
    table_regression.check(pl.DataFrame({"a": [1]}))


def test_checks_named(table_regression):
    table_regression.check(pl.DataFrame({"a": [1]}), "named")


@pytest.mark.skip(reason="not today")
def test_skipped(table_regression):
    table_regression.check(pl.DataFrame({"a": [1]}))


@pytest.mark.slow
def test_slow(table_regression):
    table_regression.check(pl.DataFrame({"a": [1]}), "slow")
"""


def baseline(root: Path, nodeid: str, name: str | None = None) -> Path:
    module = nodeid.split("::")[0].removesuffix(".py")
    stem = nodeid_to_test_name(nodeid) + (f".{name}" if name else "")
    path = root / "__baselines__" / module / f"{stem}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"a": [1]}).write_parquet(path)
    return path


@pytest.fixture
def suite(pytester: pytest.Pytester) -> dict[str, Path]:
    """A suite with baselines for every check, plus unused ones; name -> baseline."""
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow tests\n")
    pytester.makepyfile(test_mod=SUITE, test_other="def test_nothing():\n    pass\n")
    root = pytester.path
    paths = {
        "checks": baseline(root, "test_mod.py::test_checks"),
        "named": baseline(root, "test_mod.py::test_checks_named", "named"),
        "slow": baseline(root, "test_mod.py::test_slow", "slow"),
        "skipped": baseline(root, "test_mod.py::test_skipped"),
        "failed": baseline(root, "test_mod.py::test_fails_before_checking"),
        # unused: a test that no longer exists, a check a passing test no longer makes,
        # and one in another module
        "gone": baseline(root, "test_mod.py::test_deleted_long_ago"),
        "old_name": baseline(root, "test_mod.py::test_checks", "renamed_since"),
        "other": baseline(root, "test_other.py::test_removed"),
    }
    temp = paths["gone"].with_name(".artifacts.tmp-0123456789ab-left-by-a-crash.parquet")
    temp.write_bytes(b"")
    return paths


UNUSED = ["gone", "old_name", "other"]


def existing(suite: dict[str, Path]) -> list[str]:
    return sorted(name for name, path in suite.items() if path.exists())


def test_a_full_run_lists_the_unused_baselines(pytester, suite, plugin_args):
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=4, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*- table baselines -*",
            "3 unused table baseline(s), checked by no test of this full run "
            "(delete them with --prune-baselines):",
        ]
    )
    listed = [line.strip() for line in result.stdout.lines if line.startswith("  __baselines__/")]
    assert sorted(listed) == sorted(str(suite[name].relative_to(pytester.path)) for name in UNUSED)
    assert existing(suite) == sorted(suite)  # listed, not deleted


def test_prune_baselines_deletes_exactly_the_unused_ones(pytester, suite, plugin_args):
    result = pytester.runpytest(*plugin_args, "--prune-baselines")
    result.assert_outcomes(passed=4, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["pruned 3 unused table baseline(s):"])
    assert "unused table baseline(s), checked" not in result.stdout.str()
    assert existing(suite) == sorted(set(suite) - set(UNUSED))
    again = pytester.runpytest(*plugin_args, "--prune-baselines")
    assert "table baselines" not in again.stdout.str()


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["-k", "checks"], "*test(s) deselected*"),
        (["-m", "not slow"], "*-m selects part of the tests*"),
        (["test_mod.py::test_checks", "test_other.py"], "*node ids given on the command line*"),
        (["--deselect", "test_mod.py::test_slow"], "*--deselect selects part of the tests*"),
        (["--lf"], "*--lf selects part of the tests*"),
        (["-x"], "*collected test(s) did not run to the end*"),
        (["--sw"], "*--sw selects part of the tests*"),
        (["--count", "2"], "*--count repeats each test under other node ids*"),
        (["--collect-only"], "*collected test(s) did not run to the end*"),
    ],
    ids=["k", "m", "node-ids", "deselect", "lf", "x", "stepwise", "repeat", "collect-only"],
)
def test_a_partial_run_neither_lists_nor_prunes(pytester, suite, args, reason):
    # In file order (-x must stop before the last test), whatever pytest-randomly would do.
    result = pytester.runpytest(*args, "--prune-baselines", "-p", "no:randomly")
    result.stdout.fnmatch_lines([f"unused table baselines not judged (not a full run: {reason})"])
    assert "pruned" not in result.stdout.str()
    assert existing(suite) == sorted(suite)


@pytest.mark.parametrize("args", [["-k", "checks"], ["test_mod.py::test_checks"]])
def test_a_partial_run_under_xdist_neither_lists_nor_prunes(pytester, suite, args):
    result = pytester.runpytest("-n", "2", *args, "--prune-baselines")
    result.stdout.fnmatch_lines(["unused table baselines not judged (not a full run: *)"])
    assert existing(suite) == sorted(suite)


def test_a_collection_error_makes_the_run_partial(pytester, suite, plugin_args):
    pytester.makepyfile(test_broken="import nonexistent_module_for_this_test\n")
    result = pytester.runpytest(
        *plugin_args, "--prune-baselines", "--continue-on-collection-errors"
    )
    result.stdout.fnmatch_lines(["*not a full run: collection errors*"])
    assert existing(suite) == sorted(suite)


def test_a_plugin_that_drops_tests_silently_makes_the_run_partial(pytester, suite, plugin_args):
    pytester.makeconftest(
        """
        def pytest_collection_modifyitems(items):
            items[:] = [item for item in items if "slow" not in item.nodeid]
        """
    )
    result = pytester.runpytest(*plugin_args, "--prune-baselines")
    result.stdout.fnmatch_lines(["*not a full run: a plugin dropped collected tests*"])
    assert existing(suite) == sorted(suite)


def test_a_crashed_worker_makes_the_run_partial(pytester, suite):
    pytester.makepyfile(test_worker_crash="import os\n\ndef test_crash():\n    os._exit(3)\n")
    result = pytester.runpytest("-n", "2", "--prune-baselines")
    result.stdout.fnmatch_lines(["*not a full run: *"])
    assert existing(suite) == sorted(suite)


def test_a_file_argument_judges_only_that_modules_baselines(pytester, suite, plugin_args):
    result = pytester.runpytest(*plugin_args, "test_mod.py", "--prune-baselines")
    result.stdout.fnmatch_lines(["pruned 2 unused table baseline(s):"])
    assert existing(suite) == sorted(set(suite) - {"gone", "old_name"})


def test_baselines_of_a_module_skipped_as_a_whole_are_not_unused(pytester, plugin_args):
    pytester.makepyfile(
        test_later="""
        import pytest
        pytest.skip("not on this platform", allow_module_level=True)
        """
    )
    path = baseline(pytester.path, "test_later.py::test_something")
    result = pytester.runpytest(*plugin_args, "--prune-baselines")
    result.assert_outcomes(skipped=1)
    assert path.exists()


def test_a_module_without_tests_has_only_unused_baselines(pytester, plugin_args):
    pytester.makepyfile(test_empty="X = 1\n")
    path = baseline(pytester.path, "test_empty.py::test_gone")
    result = pytester.runpytest(*plugin_args, "--prune-baselines", "test_empty.py")
    result.stdout.fnmatch_lines(["pruned 1 unused table baseline(s):"])
    assert not path.exists()


def test_reruns_do_not_make_a_run_partial_and_the_last_attempt_counts(pytester, plugin_args):
    pytester.makepyfile(
        test_flaky="""
        import polars as pl

        ATTEMPTS = []

        def test_flaky(table_regression):
            ATTEMPTS.append(1)
            assert len(ATTEMPTS) > 1, "fails before its check the first time"
            table_regression.check(pl.DataFrame({"a": [1]}))
        """
    )
    used = baseline(pytester.path, "test_flaky.py::test_flaky")
    unused = baseline(pytester.path, "test_flaky.py::test_flaky", "stale")
    result = pytester.runpytest(*plugin_args, "--reruns", "2", "--prune-baselines")
    outcomes = result.parseoutcomes()
    assert (outcomes.get("passed"), outcomes.get("rerun")) == (1, 1)
    assert used.exists()
    assert not unused.exists()


def test_partial_runs_say_why_only_when_asked(pytester, suite):
    quiet = pytester.runpytest("-k", "checks")
    assert "table baselines" not in quiet.stdout.str()
    verbose = pytester.runpytest("-k", "checks", "-v")
    verbose.stdout.fnmatch_lines(["unused table baselines not judged*"])


@pytest.mark.parametrize("linked", ["module_dir", "baselines_dir"])
def test_a_symlinked_baseline_dir_is_used_but_never_pruned(pytester, plugin_args, linked):
    pytester.makepyfile(
        test_a="""
        import polars as pl

        def test_x(table_regression):
            table_regression.check(pl.DataFrame({"a": [1]}))
        """
    )
    shared = pytester.path / "shared"  # shared with other modules or projects
    theirs = baseline(shared, "test_a.py::test_of_another_project")
    if linked == "module_dir":
        (pytester.path / "__baselines__").mkdir()
        (pytester.path / "__baselines__" / "test_a").symlink_to(theirs.parent)
    else:
        (pytester.path / "__baselines__").symlink_to(theirs.parent.parent)
    pytester.runpytest(*plugin_args, "--update-baselines").assert_outcomes(passed=1)
    assert (theirs.parent / f"{nodeid_to_test_name('test_a.py::test_x')}.parquet").exists()
    result = pytester.runpytest(*plugin_args, "--prune-baselines")
    result.assert_outcomes(passed=1)
    assert "table baselines" not in result.stdout.str()  # nothing pruned, nothing unused
    assert theirs.exists()
