"""Writes from threads: one a test left running writes after the test ended."""

from __future__ import annotations

import pytest

LATE_WRITER = """
    import threading

    import pytest

    LATE = {{"go": threading.Event(), "error": None}}


    def _write_later():
        LATE["go"].wait(30)
        try:
            open({target!r}, "w").write("late")
        except Exception as error:  # what the thread got
            LATE["error"] = error


    @pytest.fixture
    def leaves_a_thread():
        LATE["thread"] = threading.Thread(target=_write_later, name="late-writer")
        LATE["thread"].start()


    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logfinish(nodeid):
        # After test_a's teardown, before test_b starts: the thread writes now.
        if nodeid.endswith("::test_a") and "thread" in LATE:
            LATE["go"].set()
            LATE["thread"].join(30)
"""

TESTS = """
    import sys


    def test_a(leaves_a_thread):
        pass


    def test_b():
        late = sys.modules["conftest"].LATE
        assert type(late["error"]).__name__ == "ProductionWriteError"
"""


def _same_process(plugin_args):
    """Both tests in one process (under xdist: one worker, as their file goes to one)."""
    return [*plugin_args, "--dist=loadfile"] if plugin_args else []


def test_a_write_between_tests_is_stopped_and_blamed_on_no_test(pytester, production, plugin_args):
    """The thread writes after test_a ended and before test_b started: the write is stopped
    (it was let through, the guard disarmed between tests), no test is blamed, and the
    session fails naming the thread and the test it came after."""
    target = production / "late.tsv"
    pytester.makeconftest(LATE_WRITER.format(target=str(target)))
    pytester.makepyfile(test_late=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", *_same_process(plugin_args))
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            f"*blocked: * {target} (no test (between tests, after test_late.py::test_a),"
            " from thread 'late-writer')*"
        ]
    )
    assert not target.exists()


DURING_NEXT = """
    import threading

    GO = threading.Event()
    THREADS = []


    def test_a():
        def write_later():
            GO.wait(30)
            open({target!r}, "w").write("late")

        THREADS.append(threading.Thread(target=write_later, name="late-writer", daemon=True))
        THREADS[0].start()


    def test_b():
        GO.set()  # test_a's thread writes now, in test_b's call
        THREADS[0].join(30)
"""


def test_a_thread_writing_during_another_test_is_named(pytester, production, plugin_args):
    """Which test started a thread is not known (no audit event for it before Python 3.13):
    the test running when it writes fails, and the failure names the thread."""
    target = production / "late.tsv"
    pytester.makepyfile(test_late=DURING_NEXT.format(target=str(target)))
    result = pytester.runpytest_subprocess("-p", "no:randomly", *_same_process(plugin_args))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [f"*blocked: * {target} (in the call of test_late.py::test_b, from thread 'late-writer')*"]
    )
    assert not target.exists()


@pytest.mark.parametrize(
    ("stop", "status"),
    [('pytest.exit("stop", returncode=0)', 1), ("raise KeyboardInterrupt", 2)],
    ids=["pytest.exit", "ctrl-c"],
)
def test_a_violation_of_the_test_the_session_stopped_in_is_not_lost(
    pytester, production, stop, status
):
    """The session stops inside the test, so its phase never gets its verdict: the stopped
    write is still listed, and a session stopped with status 0 exits 1."""
    target = production / "stopped.tsv"
    pytester.makepyfile(
        f"""
        import pytest

        def test_stops():
            try:
                open({str(target)!r}, "w")
            except PermissionError:
                pass
            {stop}
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--artifacts-report=r.json")
    assert result.ret == status
    result.stdout.fnmatch_lines([f"*blocked: * {target} (in the call of test_*::test_stops)*"])
    assert not target.exists()
