"""Writes from threads: one a test left running writes after the test ended."""

from __future__ import annotations

import json
import sys

import pytest

#: Python 3.12+ raises an audit event as a thread starts: the guard says where it started.
KNOWS_STARTS = sys.version_info >= (3, 12)


def _started(where: str) -> str:
    """What a violation's line adds after the thread's name, on this Python."""
    return f" (started {where})" if KNOWS_STARTS else ""


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
    started = _started("in the setup of test_late.py::test_a")
    result.stdout.fnmatch_lines(
        [
            f"*blocked: * {target} (no test (between tests, after test_late.py::test_a),"
            f" from thread 'late-writer'{started})*"
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
    """The test running when a thread writes fails (a pool's thread started in one test may
    be working for the next), and the failure names the thread; from Python 3.12 also where
    it was started, in the line and in the JSON report."""
    target = production / "late.tsv"
    pytester.makepyfile(test_late=DURING_NEXT.format(target=str(target)))
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "--artifacts-report=report.json", *_same_process(plugin_args)
    )
    result.assert_outcomes(passed=1, failed=1)
    started = _started("in the call of test_late.py::test_a")
    result.stdout.fnmatch_lines(
        [
            f"*blocked: * {target} (in the call of test_late.py::test_b,"
            f" from thread 'late-writer'{started})*"
        ]
    )
    assert not target.exists()
    report = json.loads((pytester.path / "report.json").read_text())
    [violation] = [v for t in report["tests"] for v in t["violations"]]
    assert violation["test"] == "test_late.py::test_b"
    assert violation["thread"] == "late-writer"
    assert violation["thread_started"] == (
        "in the call of test_late.py::test_a" if KNOWS_STARTS else ""
    )


THREAD_STARTS_THREAD = """
    import threading

    GO = threading.Event()
    THREADS = []


    def test_a():
        def write_later():
            GO.wait(30)
            open({target!r}, "w").write("late")

        def starter():
            THREADS.append(threading.Thread(target=write_later, name="grandchild"))
            THREADS[-1].start()

        first = threading.Thread(target=starter, name="child")
        first.start()
        first.join(30)


    def test_b():
        GO.set()
        THREADS[0].join(30)


    def test_c():
        def write_now():
            open({target!r}, "w").write("own")

        own = threading.Thread(target=write_now, name="own")
        own.start()
        own.join(30)
"""


def test_a_thread_started_by_a_thread_is_said_to_come_from_the_first_ones_test(
    pytester, production
):
    """A thread started by a thread of test_a says test_a's call; a thread that writes in
    the phase that started it adds nothing (the line already says where)."""
    target = production / "late.tsv"
    pytester.makepyfile(test_late=THREAD_STARTS_THREAD.format(target=str(target)))
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=2)
    started = _started("in the call of test_late.py::test_a")
    result.stdout.fnmatch_lines(
        [
            f"*blocked: * {target} (in the call of test_late.py::test_b,"
            f" from thread 'grandchild'{started})*",
            f"*blocked: * {target} (in the call of test_late.py::test_c, from thread 'own')*",
        ]
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
