"""Two pytest sessions on the same data root never silently share a test dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # several real sessions racing for one dir (see pyproject)

SLOW_TEST = """
    import os, time
    from pathlib import Path

    def test_slow(test_artifacts_dir):
        assert list(test_artifacts_dir.iterdir()) == [], "saw another session's files"
        (test_artifacts_dir / f"{os.getpid()}.tsv").write_text("x")
        Path(os.environ["STARTED"]).write_text("")
        time.sleep(float(os.environ.get("HOLD", "1.5")))
        assert [p.name for p in test_artifacts_dir.iterdir()] == [f"{os.getpid()}.tsv"]
    """


def start_session(
    path: Path, started: Path, *args: str, hold: float = 1.5
) -> subprocess.Popen[str]:
    env = dict(os.environ, STARTED=str(started), HOLD=str(hold))
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", *args],
        cwd=path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


@pytest.fixture
def slow_suite(pytester: pytest.Pytester) -> Path:
    pytester.makepyfile(test_x=SLOW_TEST)
    return pytester.path


def test_second_session_gives_up_naming_the_holder(slow_suite, tmp_path):
    first = start_session(slow_suite, tmp_path / "first", hold=5)
    wait_for(tmp_path / "first")
    second = start_session(slow_suite, tmp_path / "second", "--artifacts-lock-timeout=0.3")
    out_second = second.communicate(timeout=120)[0]
    out_first = first.communicate(timeout=120)[0]
    assert first.returncode == 0, out_first
    assert second.returncode == 1, out_second
    assert "1 error" in out_second
    assert f"still held by pid {first.pid}" in out_second
    assert "pytest running test_x.py::test_slow" in out_second
    assert not (tmp_path / "second").exists()


def test_second_session_waits_and_then_gets_an_empty_dir(slow_suite, tmp_path):
    first = start_session(slow_suite, tmp_path / "first")
    wait_for(tmp_path / "first")
    second = start_session(slow_suite, tmp_path / "second")
    out_first = first.communicate(timeout=120)[0]
    out_second = second.communicate(timeout=120)[0]
    assert first.returncode == 0, out_first
    assert second.returncode == 0, out_second


def test_a_killed_session_leaves_no_lock_behind(slow_suite, tmp_path):
    first = start_session(slow_suite, tmp_path / "first", "--keep-artifacts", hold=300)
    wait_for(tmp_path / "first")
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    second = start_session(slow_suite, tmp_path / "second", "--artifacts-lock-timeout=5", hold=0)
    out = second.communicate(timeout=120)[0]
    assert second.returncode == 0, out  # and the killed session's file was emptied away
