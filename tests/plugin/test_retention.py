"""Retention: which test dirs exist after a session, and after the next one starts.

One inner session per (mode, keep policy) runs every outcome at once; the next session runs
only a test that makes no dir, so what it changes is its start-of-session reaping alone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from artifact_manager import nodeid_to_test_name
from artifact_manager.storage.retention import KEEP_MARKER

OUTCOMES = """
    import os
    from pathlib import Path

    import pytest


    def write(d):
        (d / "a.tsv").write_text("x")


    @pytest.fixture
    def error_in_setup(test_artifacts_dir):
        write(test_artifacts_dir)
        raise RuntimeError("setup broke")


    @pytest.fixture
    def error_in_teardown(test_artifacts_dir):
        yield
        raise RuntimeError("teardown broke")


    @pytest.fixture
    def skip_in_setup(test_artifacts_dir):
        write(test_artifacts_dir)
        pytest.skip("skipped in setup")


    def test_pass(test_artifacts_dir):
        write(test_artifacts_dir)


    def test_fail(test_artifacts_dir):
        write(test_artifacts_dir)
        assert False, "failed in call"


    def test_error_setup(error_in_setup):
        pass


    def test_error_teardown(test_artifacts_dir, error_in_teardown):
        write(test_artifacts_dir)


    def test_skip_setup(skip_in_setup):
        pass


    def test_skip_call(test_artifacts_dir):
        write(test_artifacts_dir)
        pytest.skip("skipped in call")


    @pytest.mark.xfail(strict=True)
    def test_xfail(test_artifacts_dir):
        write(test_artifacts_dir)
        assert False


    @pytest.mark.xfail(strict=True)
    def test_xpass_strict(test_artifacts_dir):
        write(test_artifacts_dir)


    @pytest.mark.flaky(reruns=1)
    def test_rerun_passes(test_artifacts_dir):
        counter = Path(os.environ["RERUN_COUNTER"])
        attempt = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(attempt))
        (test_artifacts_dir / f"attempt-{attempt}.tsv").write_text("x")
        assert attempt == 2
    """

CRASH = """
    import os

    def test_crash(test_artifacts_dir):
        (test_artifacts_dir / "a.tsv").write_text("x")
        os._exit(1)
    """

INTERRUPT = """
    def test_zz_interrupt(test_artifacts_dir):
        (test_artifacts_dir / "a.tsv").write_text("x")
        raise KeyboardInterrupt
    """

NOTHING = """
    def test_nothing():
        pass
    """

ALL = [
    "test_pass",
    "test_fail",
    "test_error_setup",
    "test_error_teardown",
    "test_skip_setup",
    "test_skip_call",
    "test_xfail",
    "test_xpass_strict",
    "test_rerun_passes",
]
FAILED = ["test_fail", "test_error_setup", "test_error_teardown", "test_xpass_strict"]
KEPT = {"none": [], "failed": FAILED, "all": ALL}


def dir_of(nodeid: str) -> str:
    return nodeid_to_test_name(nodeid)


def outcome_dirs(tests: list[str]) -> list[str]:
    return [dir_of(f"test_outcomes.py::{t}") for t in tests]


@pytest.fixture
def outcome_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makepyfile(test_outcomes=OUTCOMES, test_other=NOTHING)
    monkeypatch.setenv("RERUN_COUNTER", str(pytester.path / "rerun-counter"))
    return pytester


@pytest.mark.parametrize("keep", ["none", "failed", "all"])
def test_every_outcome_under_every_policy(outcome_suite, plugin_args, test_dirs, tests_root, keep):
    pytester = outcome_suite
    xdist = bool(plugin_args)
    args = ["-p", "no:randomly", f"--keep-artifacts={keep}"]
    if xdist:
        pytester.makepyfile(test_crash=CRASH)
    result = pytester.runpytest(
        *plugin_args, *args, "test_outcomes.py", *(["test_crash.py"] * xdist)
    )
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 2 + xdist, result.stdout.str()  # fail, strict xpass, crash
    assert outcomes["errors"] == 2
    # pass, rerun and the call of error_teardown (its teardown error counts separately)
    assert (outcomes["passed"], outcomes["skipped"], outcomes["xfailed"]) == (3, 2, 1)
    kept = outcome_dirs(KEPT[keep])
    if xdist and keep != "none":  # a crashed worker's test counts as failed
        kept.append(dir_of("test_crash.py::test_crash"))
    assert test_dirs() == sorted(kept)
    for name in kept:
        marker = json.loads((tests_root / name / KEEP_MARKER).read_text())
        assert marker["policy"] == keep
    if keep == "all":  # the rerun's last attempt is the one kept
        rerun = tests_root / dir_of("test_outcomes.py::test_rerun_passes")
        assert [p.name for p in (rerun / "meta_models" / "predictions").iterdir()] == [
            "attempt-2.tsv"
        ]

    # The next session keeps what was kept (within the retention window) and reaps orphans.
    orphan = tests_root / "left_behind_by_a_crash"
    (orphan / "meta_models").mkdir(parents=True)
    pytester.runpytest(*plugin_args, "test_other.py").assert_outcomes(passed=1)
    assert test_dirs() == sorted(kept)


def test_failure_output_names_the_dir_and_its_files(outcome_suite, plugin_args, tests_root):
    result = outcome_suite.runpytest(*plugin_args, "--keep-artifacts=failed", "-k", "test_fail")
    result.assert_outcomes(failed=1)
    root = tests_root / dir_of("test_outcomes.py::test_fail")
    result.stdout.fnmatch_lines(
        [
            "*- artifacts -*",
            f"{root}  (kept: artifacts_keep=failed)",
            "  meta_models/predictions/a.tsv  (1 B)",
        ]
    )


def test_failure_output_says_an_unkept_dir_is_removed(outcome_suite):
    result = outcome_suite.runpytest("-k", "test_fail")
    result.stdout.fnmatch_lines(["*(removed when the test ends; run with --keep-artifacts=failed*"])


def test_junitxml_has_the_dir_property_and_attachment_lines(outcome_suite, plugin_args, tests_root):
    outcome_suite.makeini("[pytest]\njunit_logging = system-out\n")
    result = outcome_suite.runpytest(
        *plugin_args,
        "--keep-artifacts=failed",
        "--junitxml=junit.xml",
        "-k",
        "test_fail or test_pass",
    )
    result.assert_outcomes(passed=1, failed=1)
    xml = (outcome_suite.path / "junit.xml").read_text()
    failed_root = tests_root / dir_of("test_outcomes.py::test_fail")
    passed_root = tests_root / dir_of("test_outcomes.py::test_pass")
    assert f'<property name="artifacts_dir" value="{failed_root}"' in xml
    assert f'<property name="artifacts_dir" value="{passed_root}"' in xml
    attachment = f"[[ATTACHMENT|{failed_root}/meta_models/predictions/a.tsv]]"
    assert xml.count(attachment) == 1
    assert xml.count("[[ATTACHMENT|") == 1  # the passing test's dir was not kept


@pytest.mark.parametrize("keep", ["none", "failed", "all"])
def test_keyboard_interrupt_keeps_only_under_all(outcome_suite, test_dirs, keep):
    outcome_suite.makepyfile(test_zz=INTERRUPT)
    result = outcome_suite.runpytest(
        "-p", "no:randomly", f"--keep-artifacts={keep}", "test_zz.py", no_reraise_ctrlc=True
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    interrupted = [dir_of("test_zz.py::test_zz_interrupt")] if keep == "all" else []
    assert test_dirs() == interrupted
    outcome_suite.runpytest("test_other.py").assert_outcomes(passed=1)
    assert test_dirs() == interrupted


SLOW = """
    import os, time
    from pathlib import Path

    def test_killed(test_artifacts_dir):
        (test_artifacts_dir / "a.tsv").write_text("x")
        Path(os.environ["STARTED"]).write_text("")
        time.sleep(300)
    """


@pytest.mark.parametrize("keep", ["none", "failed", "all"])
def test_a_killed_sessions_dir_is_reaped_when_the_next_starts(pytester, test_dirs, tmp_path, keep):
    pytester.makepyfile(test_slow=SLOW, test_other=NOTHING)
    started = tmp_path / "started"
    session = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--keep-artifacts={keep}"],
        cwd=pytester.path,
        env=dict(os.environ, STARTED=str(started)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline, "the session never started"
        assert session.poll() is None, "the session ended early"
        time.sleep(0.02)
    session.send_signal(signal.SIGKILL)
    session.wait(timeout=60)
    assert test_dirs() == [dir_of("test_slow.py::test_killed")]  # left behind, no marker
    pytester.runpytest("test_other.py").assert_outcomes(passed=1)
    assert test_dirs() == []


def test_only_the_last_sessions_kept_dirs_are_retained(pytester, test_dirs):
    pytester.makeini("[pytest]\nartifacts_retention_count = 3\n")
    pytester.makepyfile(
        test_s="""
        import pytest

        @pytest.mark.parametrize("n", range(1, 6))
        def test_session(test_artifacts_dir, n):
            pass
        """
    )
    names = [dir_of(f"test_s.py::test_session[{n}]") for n in range(1, 6)]
    for n in range(1, 6):
        pytester.runpytest("--keep-artifacts", "-k", f"test_session[{n}]").assert_outcomes(passed=1)
        assert test_dirs() == sorted(names[max(n - 3, 0) : n])


def test_a_retention_count_of_one_keeps_only_the_newest_session(pytester, test_dirs):
    pytester.makeini("[pytest]\nartifacts_retention_count = 1\n")
    pytester.makepyfile(
        test_s="def test_a(test_artifacts_dir): pass\ndef test_b(test_artifacts_dir): pass\n"
    )
    pytester.runpytest("--keep-artifacts", "-k", "test_a").assert_outcomes(passed=1)
    pytester.runpytest("--keep-artifacts", "-k", "test_b").assert_outcomes(passed=1)
    assert test_dirs() == [dir_of("test_s.py::test_b")]


@pytest.mark.parametrize("value", ["0", "-1", "three"])
def test_a_bad_retention_count_is_a_usage_error_naming_it(pytester, value):
    pytester.makeini(f"[pytest]\nartifacts_retention_count = {value}\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*artifacts_retention_count='{value}'*not an integer >= 1*"])


def test_reaping_never_follows_a_symlink_in_the_tests_root(
    pytester, tests_root, tmp_path, test_dirs
):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.tsv").write_text("production data")
    tests_root.mkdir(parents=True)
    (tests_root / "planted").symlink_to(precious, target_is_directory=True)
    (tests_root / "orphan").mkdir()
    pytester.makepyfile(test_other=NOTHING)
    pytester.runpytest().assert_outcomes(passed=1)
    assert (tests_root / "planted").is_symlink()  # not ours: left alone
    assert sorted(p.name for p in precious.iterdir()) == ["keep.tsv"]
    assert test_dirs() == ["planted"]


def test_a_trash_dir_planted_as_a_symlink_is_neither_used_nor_emptied(
    pytester, tests_root, tmp_path, test_dirs
):
    victim = tmp_path / "victim"
    (victim / "important_a").mkdir(parents=True)
    (victim / "important_a" / "f.txt").write_text("precious")
    (victim / "important_b").mkdir()
    tests_root.mkdir(parents=True)
    (tests_root / ".artifacts.trash").symlink_to(victim, target_is_directory=True)
    (tests_root / "orphan").mkdir()
    pytester.makepyfile(
        test_one="""
        def test_one(test_artifacts_dir):
            (test_artifacts_dir / "x.txt").write_text("hi")
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
    assert sorted(os.listdir(victim)) == ["important_a", "important_b"]
    assert (victim / "important_a" / "f.txt").read_text() == "precious"
    assert test_dirs() == []  # the orphan and the passed test's dir: removed in place


@pytest.fixture
def linked_tests_root(tests_root, tmp_path):
    """The tests root planted as a symlink to a dir of someone's work; returns that dir."""
    projects = tmp_path / "home" / "projects"
    (projects / "thesis").mkdir(parents=True)
    (projects / "thesis" / "ch1.tex").write_text("precious")
    (projects / "code").mkdir()
    tests_root.parent.mkdir(parents=True)
    tests_root.symlink_to(projects, target_is_directory=True)
    return projects


def test_a_tests_root_that_is_a_symlink_is_not_reaped_and_a_warning_says_why(
    pytester, plugin_args, tests_root, linked_tests_root
):
    pytester.makepyfile(test_other=NOTHING)
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            f"*the tests root was not reaped: '{tests_root}': the tests root is a symlink"
            "*replace the symlink with a real dir*"
        ]
    )
    assert sorted(os.listdir(linked_tests_root)) == ["code", "thesis"]
    assert (linked_tests_root / "thesis" / "ch1.tex").read_text() == "precious"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("def test_one(test_artifacts_dir):\n    pass\n", id="own-dir"),
        pytest.param(
            'def test_one(artifact_manager_factory):\n    artifact_manager_factory("ref")\n',
            id="shared-dir",
        ),
    ],
)
def test_no_dir_is_claimed_through_a_symlinked_tests_root(
    pytester, tests_root, linked_tests_root, body
):
    name = dir_of("test_one.py::test_one")
    (linked_tests_root / name).mkdir()  # what claiming the test's own dir would empty
    (linked_tests_root / "ref").mkdir()  # and preparing the shared dir
    pytester.makepyfile(test_one=body)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"*'{tests_root}': the tests root is a symlink*"])
    assert sorted(os.listdir(linked_tests_root)) == sorted(["code", "thesis", name, "ref"])
    assert (linked_tests_root / "thesis" / "ch1.tex").read_text() == "precious"


def test_a_symlinked_data_root_is_reaped_as_usual(pytester, tmp_path):
    real_tests_root = tmp_path / "real_data" / "ensembl" / "GRCh37" / "spliceai_eval" / "tests"
    (real_tests_root / "orphan").mkdir(parents=True)
    (pytester.path / "data").symlink_to(tmp_path / "real_data", target_is_directory=True)
    pytester.makepyfile(test_other=NOTHING)
    pytester.runpytest().assert_outcomes(passed=1)
    assert not (real_tests_root / "orphan").exists()


def test_a_dir_held_by_another_session_is_not_reaped(pytester, tests_root, test_dirs):
    from artifact_manager.layout import lock_path_for
    from artifact_manager.storage.locks import acquire

    held = tests_root / "running_elsewhere"
    held.mkdir(parents=True)
    pytester.makepyfile(test_other=NOTHING)
    with acquire(lock_path_for(held), timeout=0, owner="another session"):
        pytester.runpytest().assert_outcomes(passed=1)
    assert test_dirs() == ["running_elsewhere"]


HOLDER = """
    import os, time
    from pathlib import Path

    def wait_for(path):
        deadline = time.monotonic() + 60
        while not Path(path).exists():
            assert time.monotonic() < deadline, f"{path} never appeared"
            time.sleep(0.02)

    def test_make_shared(artifact_manager_factory):
        shared = artifact_manager_factory("reference_a").get_artifacts_dir(create=True)
        (shared / "ref.tsv").write_text("x")
        Path(os.environ["SIGNALS"], "shared-made").write_text("")

    def test_hold(test_artifacts_dir, artifact_manager_factory):
        (test_artifacts_dir / "own.tsv").write_text("x")
        wait_for(Path(os.environ["SIGNALS"], "shared-made"))
        Path(os.environ["SIGNALS"], "a-started").write_text("")
        wait_for(Path(os.environ["SIGNALS"], "b-done"))
        shared = artifact_manager_factory("reference_a").get_artifacts_dir()
        assert (shared / "ref.tsv").read_text() == "x", "the other session reaped our shared dir"
        assert (test_artifacts_dir / "own.tsv").read_text() == "x"
    """

QUICK = """
    def test_quick_one(test_artifacts_dir, artifact_manager_factory):
        artifact_manager_factory("reference_b").get_artifacts_dir(create=True)
        (test_artifacts_dir / "b.tsv").write_text("x")

    def test_quick_two(test_artifacts_dir):
        (test_artifacts_dir / "b.tsv").write_text("x")
    """


def test_concurrent_xdist_sessions_never_reap_each_others_live_dirs(pytester, tmp_path):
    pytester.makepyfile(test_a=HOLDER, test_b=QUICK)
    signals = tmp_path / "signals"
    signals.mkdir()
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2"]
    env = dict(os.environ, SIGNALS=str(signals))
    first = subprocess.Popen(
        [*command, "test_a.py"],
        cwd=pytester.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (signals / "a-started").exists():
            assert time.monotonic() < deadline, "the first session never started"
            assert first.poll() is None, first.communicate()[0]
            time.sleep(0.02)
        second = subprocess.run(
            [*command, "--keep-artifacts=none", "test_b.py"],
            cwd=pytester.path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 0, second.stdout
    finally:
        (signals / "b-done").write_text("")
    out = first.communicate(timeout=120)[0]
    assert first.returncode == 0, out


def test_locate_finds_a_kept_failed_tests_dir_and_its_marker(outcome_suite, capsys):
    from artifact_manager.cli import main

    outcome_suite.runpytest("--keep-artifacts=failed", "-k", "test_fail").assert_outcomes(failed=1)
    capsys.readouterr()
    root = str(outcome_suite.path / "data")
    assert main(["--root", root, "locate", "test_outcomes.py::test_fail", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["kept"]["outcome"] == "failed"
    assert found["kept"]["nodeid"] == "test_outcomes.py::test_fail"
    assert main(["--root", root, "locate", "test_outcomes.py::test_pass"]) == 1


def test_the_summary_says_what_was_reaped(pytester, plugin_args, tests_root):
    (tests_root / "orphan_a").mkdir(parents=True)
    (tests_root / "orphan_b").mkdir()
    pytester.makepyfile(test_other=NOTHING)
    result = pytester.runpytest(*plugin_args, "-v")
    result.stdout.fnmatch_lines(
        [
            "reaped 2 test artifact dir(s) that earlier sessions left behind*",
            f"  {tests_root / 'orphan_a'}",
            f"  {tests_root / 'orphan_b'}",
        ]
    )


def test_another_tests_root_is_reaped_when_first_used(pytester, tests_root):
    other_root = pytester.path / "data" / "ensembl" / "GRCh38" / "spliceai_eval" / "tests"
    (other_root / "orphan").mkdir(parents=True)
    pytester.makepyfile(
        test_other=NOTHING,
        test_grch38="""
        import pytest

        @pytest.mark.artifacts(build="GRCh38")
        def test_uses_grch38(test_artifacts_dir):
            pass
        """,
    )
    pytester.runpytest("test_other.py").assert_outcomes(passed=1)
    assert (other_root / "orphan").is_dir()  # not the configured layout, and not used
    pytester.runpytest("test_grch38.py").assert_outcomes(passed=1)
    assert not (other_root / "orphan").exists()


def test_a_kept_shared_dir_is_marked_and_ages_out_like_the_others(pytester, tests_root, test_dirs):
    pytester.makeini("[pytest]\nartifacts_retention_count = 1\n")
    pytester.makepyfile(
        test_s="""
        def test_shared(artifact_manager_factory):
            artifact_manager_factory("ref").get_artifacts_dir(create=True)
        """,
        test_other=NOTHING,
    )
    pytester.runpytest("-n", "2", "--keep-artifacts", "test_s.py").assert_outcomes(passed=1)
    marker = json.loads((tests_root / "ref" / KEEP_MARKER).read_text())
    assert (marker["outcome"], marker["policy"]) == ("shared", "all")
    pytester.runpytest("test_other.py").assert_outcomes(passed=1)
    assert test_dirs() == []


def test_a_session_whose_tests_make_no_dir_creates_nothing(pytester, plugin_args):
    pytester.makepyfile(test_other=NOTHING)
    pytester.runpytest(*plugin_args, "--keep-artifacts").assert_outcomes(passed=1)
    assert not (pytester.path / "data").exists()


def _chattr(flag: str, path: os.PathLike[str] | str) -> bool:
    """Set or clear the immutable attribute (root, a file system that has it); False if not."""
    try:
        done = subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False)
    except OSError:
        return False
    return done.returncode == 0


def _require_chattr(where: os.PathLike[str]) -> None:
    """Skip unless the immutable attribute can be set in ``where`` (the inner tests set it)."""
    probe = os.path.join(where, "chattr-probe")
    os.mkdir(probe)
    if not _chattr("+i", probe):
        pytest.skip("chattr +i is not available here (needs root and a file system with it)")
    _chattr("-i", probe)


def test_an_undeletable_left_over_dir_is_a_warning_and_the_rest_is_reaped(
    pytester, tests_root, test_dirs
):
    stuck = tests_root / "stuck"
    (stuck / "sub").mkdir(parents=True)
    (stuck / "sub" / "f.tsv").write_text("x")
    (tests_root / "orphan").mkdir()
    if not _chattr("+i", stuck):
        pytest.skip("chattr +i is not available here (needs root and a file system with it)")
    try:
        pytester.makepyfile(test_other=NOTHING)
        for _ in range(2):  # not once: every later session still runs
            result = pytester.runpytest("-p", "no:randomly", "test_other.py")
            result.assert_outcomes(passed=1, warnings=1)
            assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
            result.stdout.fnmatch_lines(
                [
                    f"*could not remove the left-over test artifact dir '{stuck}'*Operation not "
                    "permitted*fix its permissions*or remove it by hand*"
                ]
            )
            assert test_dirs() == ["stuck"]  # the orphan beside it was reaped
    finally:
        _chattr("-i", stuck)


KEEP_FAILS = """
    import subprocess


    def test_a_locked_root(test_artifacts_dir):
        (test_artifacts_dir / "a.tsv").write_text("x")
        root = test_artifacts_dir.parent.parent  # the test root: no keep marker can go in
        subprocess.run(["chattr", "+i", str(root)], check=True)
        assert False, "failed test"


    def test_b_after():
        pass
    """


def test_a_keep_marker_that_cannot_be_written_is_a_warning_and_the_session_goes_on(
    pytester, tests_root, test_dirs
):
    _require_chattr(pytester.path)
    pytester.makepyfile(test_keep=KEEP_FAILS)
    root = tests_root / dir_of("test_keep.py::test_a_locked_root")
    try:
        # (this suite's own filterwarnings=error would turn the warning into an error)
        result = pytester.runpytest(
            "-p", "no:randomly", "--keep-artifacts=failed", "-W", "default::pytest.PytestWarning"
        )
        assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
        result.assert_outcomes(passed=1, failed=1, warnings=1)
        result.stdout.fnmatch_lines(
            [
                f"*could not mark test artifact dir '{root}' as kept*Operation not permitted*"
                "the next session may reap it*"
            ]
        )
        assert test_dirs() == [root.name]  # left in place, not discarded
        assert (root / "meta_models").exists() or any(root.iterdir())
    finally:
        _chattr("-i", root)
    assert not (root / KEEP_MARKER).exists()


def test_under_w_error_a_keep_marker_that_cannot_be_written_is_the_tests_error(
    pytester, tests_root, test_dirs
):
    """Where warnings are errors the warning is raised: it becomes the error of the test's
    teardown (as pytest makes a warning raised there), not an INTERNALERROR."""
    _require_chattr(pytester.path)
    pytester.makepyfile(test_keep=KEEP_FAILS)
    root = tests_root / dir_of("test_keep.py::test_a_locked_root")
    try:
        result = pytester.runpytest(
            "-p",
            "no:randomly",
            "--keep-artifacts=failed",
            "-W",
            "error::pytest.PytestWarning",
        )
        assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
        result.assert_outcomes(passed=1, failed=1, errors=1)
        result.stdout.fnmatch_lines(
            [
                "*ERROR at teardown of test_a_locked_root*",
                f"PytestWarning: could not mark test artifact dir '{root}' as kept*",
            ]
        )
        assert test_dirs() == [root.name]  # left in place, not discarded

    finally:
        _chattr("-i", root)


def test_under_w_error_a_passed_tests_teardown_error_is_its_outcome_in_the_report(
    pytester, tests_root
):
    """pytest counts the teardown error; the JSON report must not say the test passed."""
    _require_chattr(pytester.path)
    pytester.makepyfile(
        test_keep="""
        import subprocess


        def test_passes(test_artifacts_dir):
            (test_artifacts_dir / "a.tsv").write_text("x")
            root = test_artifacts_dir.parent.parent  # no keep marker can go in
            subprocess.run(["chattr", "+i", str(root)], check=True)
        """
    )
    try:
        result = pytester.runpytest(
            "-p",
            "no:randomly",
            "--keep-artifacts=all",
            "-W",
            "error::pytest.PytestWarning",
            "--artifacts-report=r.json",
        )
        result.assert_outcomes(passed=1, errors=1)
        (test,) = json.loads((pytester.path / "r.json").read_text())["tests"]
        assert test["outcome"] == "failed"
    finally:
        for root in tests_root.iterdir():
            _chattr("-i", root)


def test_under_w_error_a_trash_that_cannot_be_emptied_fails_the_session(
    pytester, tests_root, test_dirs
):
    """A problem found when no test runs (the trash emptied at session end) fails the session
    and is listed in its summary, serial and from an xdist worker."""
    pytester.makepyfile(
        test_stuck="""
        import subprocess


        def test_stuck(test_artifacts_dir):
            (test_artifacts_dir / "sub").mkdir()
            (test_artifacts_dir / "sub" / "f.tsv").write_text("x")
            subprocess.run(["chattr", "+i", str(test_artifacts_dir / "sub")], check=True)
        """
    )
    _require_chattr(pytester.path)
    try:
        for xdist in ([], ["-n", "1"]):
            result = pytester.runpytest(
                "-p",
                "no:randomly",
                "-W",
                "error::pytest.PytestWarning",
                "--artifacts-report=r.json",
                *xdist,
            )
            output = result.stdout.str() + result.stderr.str()
            assert "INTERNALERROR" not in output
            assert "Traceback" not in output
            result.assert_outcomes(passed=1)
            assert result.ret == pytest.ExitCode.TESTS_FAILED
            result.stdout.fnmatch_lines(
                [
                    "*warning(s) made errors by -W error (the run fails):*",
                    "  PytestWarning: could not delete *Operation not permitted*sub*",
                ]
            )
            errors = json.loads((pytester.path / "r.json").read_text())["errors"]
            assert errors
            assert errors[0].startswith("PytestWarning: could not delete")
            for path in tests_root.rglob("sub"):
                _chattr("-i", path)
    finally:
        for path in tests_root.rglob("sub"):
            _chattr("-i", path)


def test_under_w_error_a_problem_at_session_start_fails_the_session(pytester, tests_root):
    """Reaping's problems at session start (here: the tests root is a symlink) were raised
    as an INTERNALERROR under -W error; the session now runs and fails with them listed."""
    elsewhere = pytester.path / "elsewhere"
    elsewhere.mkdir()
    tests_root.parent.mkdir(parents=True, exist_ok=True)
    tests_root.symlink_to(elsewhere, target_is_directory=True)
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly", "-W", "error::pytest.PytestWarning")
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*1 warning(s) made errors by -W error (the run fails):*",
            "  PytestWarning: the tests root was not reaped*symlink*",
        ]
    )


FOREIGN_KEEP = """
    import json
    from pathlib import Path

    import pytest


    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_handlecrashitem(crashitem, report, sched):
        # What another session leaves if it ran the test again (and kept its dir) between
        # the crash and this controller handling it.
        (root,) = Path("data").glob("*/*/*_eval/tests/test_crash.test_crash*")
        (root / "other_session.txt").write_text("kept by the other session")
        marker = dict(session_id="other-session", session_started=1.0, kept_at=2.0,
                      policy="failed", outcome="failed", nodeid=crashitem, pid=1, host="h")
        (root / ".artifacts.kept.json").write_text(json.dumps(marker))
        return (yield)
    """


@pytest.mark.parametrize("keep", ["none", "failed"])
def test_a_crashed_test_dir_another_session_kept_since_is_left_alone(pytester, keep):
    pytester.makeconftest(FOREIGN_KEEP)
    pytester.makepyfile(test_crash=CRASH)
    result = pytester.runpytest_subprocess("-n", "1", f"--keep-artifacts={keep}")
    result.assert_outcomes(failed=1)
    (root,) = pytester.path.glob("data/*/*/*_eval/tests/test_crash.test_crash*")
    assert (root / "other_session.txt").read_text() == "kept by the other session"
    marker = json.loads((root / ".artifacts.kept.json").read_text())
    assert marker["session_id"] == "other-session"
