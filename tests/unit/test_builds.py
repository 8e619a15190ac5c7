from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from artifact_manager import (
    ArtifactBuildError,
    ArtifactConfig,
    ArtifactManager,
    ArtifactPathError,
    ArtifactUsageError,
)

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


@pytest.mark.parametrize("then", ["returns", "raises"])
def test_a_builder_making_a_dir_is_a_clear_error_and_leaves_nothing(testing, then):
    # A partitioned dataset written at the path: never published, and its dir removed
    # (it used to be left behind, and its IsADirectoryError hid the builder's own error).
    outside = testing.get_artifacts_dir(create=True).parent / "outside.txt"
    outside.write_text("kept")

    def dataset(path: Path) -> None:
        path.mkdir()
        (path / "part-0.parquet").write_bytes(b"x")
        (path / "link").symlink_to(outside)  # removed, never followed
        if then == "raises":
            raise RuntimeError("download failed")

    expected = (
        (ArtifactBuildError, "made a directory at the path it was given, not a file; write one")
        if then == "returns"
        else (RuntimeError, "download failed")
    )
    with pytest.raises(expected[0], match=expected[1]):
        testing.get_or_build("dataset.parquet", dataset)
    artifacts = testing.get_artifacts_dir()
    assert not [p for p in os.listdir(artifacts) if not p.endswith(".lock")]
    assert outside.read_text() == "kept"
    assert testing.get_or_build("dataset.parquet", lambda p: DF).is_file()


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


@pytest.mark.parametrize("mode", ["production", "test"])
def test_a_table_written_while_the_builder_runs_wins_with_its_own_entry(data_root, mode):
    config = ArtifactConfig(
        mode=mode, test_name="t1" if mode == "test" else None, data_root=data_root
    )
    manager, other = ArtifactManager(config), ArtifactManager(config)
    written = pl.DataFrame({"who": ["the other writer"]})

    def build(path: Path) -> pl.DataFrame:
        other.write_table(written, "ref.parquet")  # another process's write_table, in effect
        return pl.DataFrame({"who": ["the builder"], "x": [1]})

    path = manager.get_or_build("ref.parquet", build)
    assert pl.read_parquet(path).equals(written)
    assert manager.get_artifact_metadata("ref.parquet")["size"] == path.stat().st_size
    assert manager.validate_artifacts().ok
    assert not [p for p in os.listdir(path.parent) if ".artifacts.tmp" in p]


def test_a_builder_asking_for_the_artifact_it_builds_is_a_clear_error(testing):
    def build(path: Path) -> pl.DataFrame:
        # timeout: without the check this waited for its own lock (forever, with none)
        again = testing.get_or_build("ref.parquet", build, timeout=5)
        return pl.read_parquet(again)

    with pytest.raises(ArtifactUsageError, match=r"'ref.parquet' is being built by this thread"):
        testing.get_or_build("ref.parquet", build)
    assert testing.get_or_build("ref.parquet", lambda p: DF).is_file()  # nothing stays held


def test_another_thread_asking_for_an_artifact_being_built_waits_for_it(testing):
    calls, results, errors = [], [], []

    def ask() -> None:
        try:
            results.append(testing.get_or_build("ref.parquet", build))
        except Exception as error:
            errors.append(error)

    def build(path: Path) -> pl.DataFrame:
        calls.append(path)
        waiter = threading.Thread(target=ask)
        threads.append(waiter)
        waiter.start()
        time.sleep(0.2)  # let it reach the lock while this build holds it
        return DF

    threads: list[threading.Thread] = []
    path = testing.get_or_build("ref.parquet", build)
    for thread in threads:
        thread.join(timeout=60)
    assert (errors, results, len(calls)) == ([], [path], 1)


def test_a_frame_for_a_name_that_is_no_table_format_is_an_error_naming_the_artifact(testing):
    with pytest.raises(ArtifactPathError) as info:
        testing.get_or_build("notes.txt", lambda p: DF)
    message = str(info.value)
    assert message.startswith("'notes.txt': has no known table format")
    assert ".artifacts.tmp" not in message
    # A builder that writes the file itself may name it as it likes.
    assert testing.get_or_build("notes.txt", lambda p: p.write_text("hi")).read_text() == "hi"


def test_a_dir_at_the_name_of_a_build_is_a_clear_error(testing):
    testing.get_artifact_path("ref.parquet").mkdir(parents=True)
    calls = []
    with pytest.raises(ArtifactPathError, match=r"'ref.parquet': is a directory.*remove it"):
        testing.get_or_build("ref.parquet", lambda p: calls.append(p) or DF)
    assert calls == []
