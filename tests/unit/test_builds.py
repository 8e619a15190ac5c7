from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from artifact_manager import ArtifactBuildError

DF = pl.DataFrame({"a": [1, 2, 3]})

RACER = """
import os, sys, time
import polars as pl
from artifact_manager import ArtifactConfig, ArtifactManager

root, counter, go = sys.argv[1], sys.argv[2], sys.argv[3]
manager = ArtifactManager(ArtifactConfig(mode="test", test_name="shared", data_root=root))

def build(path):
    with open(counter, "a") as f:
        f.write(f"{os.getpid()}\\n")
    hold = float(os.environ.get("HOLD", "0.5"))
    if hold > 5:
        open(go + ".building", "w").close()
    time.sleep(hold)
    return pl.DataFrame({"a": [1, 2, 3]})

while not os.path.exists(go):
    time.sleep(0.005)
path = manager.get_or_build("reference.parquet", build)
assert pl.read_parquet(path).height == 3
"""


def test_builds_once_then_takes_the_fast_path(testing):
    calls = []

    def build(path: Path) -> pl.DataFrame:
        calls.append(path)
        return DF

    first = testing.get_or_build("ref.parquet", build)
    second = testing.get_or_build("ref.parquet", build)
    assert first == second == testing.get_artifact_path("ref.parquet")
    assert len(calls) == 1
    assert calls[0].parent == first.parent
    assert calls[0].suffix == ".parquet"
    assert testing.read_table("ref.parquet").equals(DF)
    assert testing.validate_artifacts().ok


def test_builder_may_write_the_path_it_is_given(testing):
    path = testing.get_or_build("ref.tsv", lambda p: p.write_text("a\n1\n"))
    assert path.read_text() == "a\n1\n"
    assert testing.get_artifact_metadata("ref.tsv")["size"] == 4


def test_failing_builder_leaves_nothing_and_the_next_caller_builds(testing):
    def broken(path: Path) -> None:
        path.write_text("partial")
        raise RuntimeError("genome download failed")

    with pytest.raises(RuntimeError, match="genome download failed"):
        testing.get_or_build("ref.tsv", broken)
    artifacts = testing.get_artifacts_dir()
    assert not [p for p in os.listdir(artifacts) if not p.endswith(".lock")]
    assert testing.get_or_build("ref.tsv", lambda p: DF).is_file()


def test_builder_writing_nothing_is_a_clear_error(testing):
    with pytest.raises(ArtifactBuildError, match="produced nothing"):
        testing.get_or_build("ref.tsv", lambda p: None)


def start_racers(
    data_root: Path, tmp_path: Path, n: int, hold: float
) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "HOLD": str(hold)}
    args = [str(data_root), str(tmp_path / "calls"), str(tmp_path / "go")]
    return [subprocess.Popen([sys.executable, "-c", RACER, *args], env=env) for _ in range(n)]


def test_four_racing_processes_build_exactly_once(data_root, tmp_path):
    racers = start_racers(data_root, tmp_path, 4, hold=0.5)
    time.sleep(1.0)  # let all four import and wait at the start line
    (tmp_path / "go").touch()
    assert [p.wait(timeout=120) for p in racers] == [0, 0, 0, 0]
    assert len((tmp_path / "calls").read_text().split()) == 1


def test_a_killed_builder_does_not_deadlock_the_next_caller(data_root, tmp_path):
    (tmp_path / "go").touch()
    holder = start_racers(data_root, tmp_path, 1, hold=60)[0]
    deadline = time.monotonic() + 60
    while not (tmp_path / "go.building").exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    (tmp_path / "go.building").unlink()
    follower = start_racers(data_root, tmp_path, 1, hold=0)[0]
    assert follower.wait(timeout=60) == 0
    assert len((tmp_path / "calls").read_text().split()) == 2


def test_a_name_near_the_file_name_limit_is_built_once(testing):
    # 244 characters fit (255 bytes on Linux); the build lock's name beside it is shortened.
    name = "splice_sites_" + "x" * 227 + ".tsv"
    calls = []

    def build(path):
        calls.append(path)
        return pl.DataFrame({"gene": ["BRCA1"]})

    path = testing.get_or_build(name, build)
    assert (path.name, testing.get_or_build(name, build)) == (name, path)
    assert len(calls) == 1
    assert testing.read_table(name)["gene"].to_list() == ["BRCA1"]
