"""Beside pytest-rerunfailures, pytest-repeat, pytest-randomly and pytest-timeout."""

from __future__ import annotations

from artifact_manager import nodeid_to_test_name


def test_rerun_starts_from_an_empty_dir_and_keeps_the_last_attempt(pytester, tests_root):
    pytester.makepyfile(
        test_flaky="""
        ATTEMPTS = []

        def test_flaky(test_artifacts_dir):
            ATTEMPTS.append(1)
            assert list(test_artifacts_dir.iterdir()) == []
            (test_artifacts_dir / f"attempt-{len(ATTEMPTS)}.tsv").write_text("x")
            assert len(ATTEMPTS) >= 3
        """
    )
    result = pytester.runpytest("--reruns", "3", "--keep-artifacts")
    assert result.parseoutcomes() == {"passed": 1, "rerun": 2}
    predictions = tests_root / nodeid_to_test_name("test_flaky.py::test_flaky")
    files = [p.name for p in (predictions / "meta_models" / "predictions").iterdir()]
    assert files == ["attempt-3.tsv"]


def test_rerun_that_finally_passes_is_not_kept_as_failed(pytester, test_dirs):
    pytester.makepyfile(
        test_flaky="""
        ATTEMPTS = []

        def test_flaky(test_artifacts_dir):
            ATTEMPTS.append(1)
            assert len(ATTEMPTS) >= 2
        """
    )
    result = pytester.runpytest("--reruns", "2", "--keep-artifacts=failed")
    assert result.parseoutcomes() == {"passed": 1, "rerun": 1}
    assert test_dirs() == []


def test_each_repetition_gets_its_own_dir(pytester, test_dirs, plugin_args):
    pytester.makepyfile(
        test_rep="""
        def test_rep(test_artifacts_dir):
            assert list(test_artifacts_dir.iterdir()) == []
            (test_artifacts_dir / "x").write_text("x")
        """
    )
    pytester.runpytest(*plugin_args, "--count", "3", "--keep-artifacts").assert_outcomes(passed=3)
    assert test_dirs() == sorted(
        nodeid_to_test_name(f"test_rep.py::test_rep[{i}-3]") for i in range(1, 4)
    )


def test_random_order_gives_the_same_dirs(pytester, test_dirs):
    pytester.makepyfile(
        test_rand="""
        import pytest

        @pytest.mark.parametrize("n", range(5))
        def test_n(test_artifacts_dir, n):
            (test_artifacts_dir / "x").write_text(str(n))
        """
    )
    pytester.runpytest(
        "-p", "randomly", "-p", "no:cacheprovider", "--keep-artifacts"
    ).assert_outcomes(passed=5)
    assert test_dirs() == sorted(
        nodeid_to_test_name(f"test_rand.py::test_n[{n}]") for n in range(5)
    )


def test_timed_out_test_fails_and_its_dir_is_kept_when_failed(pytester, test_dirs):
    pytester.makepyfile(
        test_slow="""
        import time

        def test_slow(test_artifacts_dir):
            (test_artifacts_dir / "partial.tsv").write_text("x")
            time.sleep(30)
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "timeout", "--timeout", "1", "--timeout-method", "signal", "--keep-artifacts=failed"
    )
    result.assert_outcomes(failed=1)
    assert test_dirs() == [nodeid_to_test_name("test_slow.py::test_slow")]
