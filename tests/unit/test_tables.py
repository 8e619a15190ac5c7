from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from artifact_manager import (
    ArtifactConfig,
    ArtifactConfigError,
    ArtifactExistsError,
    ArtifactManager,
    ArtifactPathError,
)
from artifact_manager.storage.atomic import RETIRE_FROM, TEMP_PREFIX, wait_for_drops
from artifact_manager.storage.tables import SUFFIXES

DF = pl.DataFrame({"position": [101, 202, 303], "gene": ["BRCA1", "TP53", "EGFR"]})


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("manager", ["production", "testing"])
def test_round_trip_by_suffix(request, manager, suffix):
    manager = request.getfixturevalue(manager)
    name = f"table{suffix}"
    path = manager.write_table(DF, name)
    assert path == manager.get_artifact_path(name)
    assert manager.read_table(name).equals(DF)
    assert manager.scan_table(name).collect().equals(DF)


def test_tsv_is_tab_separated(testing):
    path = testing.write_table(DF, "t.tsv")
    assert path.read_text().splitlines()[0] == "position\tgene"


def test_lazy_frames_are_collected(testing):
    testing.write_table(DF.lazy(), "lazy.parquet")
    assert testing.read_table("lazy.parquet").equals(DF)


@pytest.mark.parametrize("name", ["t.xlsx", "t", "t.tsv.gz"])
def test_unknown_format_is_a_clear_error_and_writes_nothing(testing, name):
    with pytest.raises(ArtifactPathError, match=r"no known table format.*\.tsv, \.csv"):
        testing.write_table(DF, name)
    assert testing.list_artifacts("*") == []


@pytest.mark.parametrize("manager", ["production", "testing"])
def test_unknown_format_in_a_new_sub_dir_makes_no_dir(request, manager):
    manager = request.getfixturevalue(manager)
    with pytest.raises(ArtifactPathError, match=r"^'new/sub/x.txt': has no known table format"):
        manager.write_table(DF, "new/sub/x.txt")
    assert not manager.get_artifacts_dir().exists()


def test_a_frame_of_the_wrong_type_makes_no_dir(testing):
    with pytest.raises(TypeError, match="takes a polars DataFrame"):
        testing.write_table({"a": [1]}, "new/x.tsv")  # type: ignore[arg-type]
    assert not testing.get_artifacts_dir().exists()


@pytest.mark.parametrize(
    ("manager", "force"), [("testing", False), ("production", False), ("production", True)]
)
def test_a_dir_at_the_name_is_a_clear_error(request, manager, force):
    manager = request.getfixturevalue(manager)
    target = manager.get_artifact_path("isdir.tsv")
    target.mkdir(parents=True)
    with pytest.raises(ArtifactPathError, match=r"^'isdir.tsv': is a directory.*; remove it"):
        manager.write_table(DF, "isdir.tsv", force=force)
    assert target.is_dir()
    assert not [p for p in os.listdir(target.parent) if p.startswith(TEMP_PREFIX)]
    assert manager.validate_artifacts().ok


def test_refused_production_overwrite_leaves_the_old_file(production):
    path = production.write_table(DF, "t.tsv")
    before = path.read_bytes()
    with pytest.raises(ArtifactExistsError, match="force=True") as info:
        production.write_table(DF.head(1), "t.tsv")
    assert info.value.path == path
    assert path.read_bytes() == before
    assert production.validate_artifacts().ok


def test_forced_production_overwrite_replaces(production):
    production.write_table(DF, "t.parquet")
    production.write_table(DF.head(1), "t.parquet", force=True)
    assert production.read_table("t.parquet").height == 1
    assert production.validate_artifacts().ok


def test_test_mode_always_overwrites(testing):
    testing.write_table(DF, "t.csv")
    testing.write_table(DF.head(2), "t.csv")
    assert testing.read_table("t.csv").height == 2


def test_failed_write_leaves_no_temp_file_and_the_old_file(testing):
    path = testing.write_table(DF, "t.csv")
    before = path.read_bytes()
    nested = pl.DataFrame({"a": [[1, 2]]})  # csv cannot hold a list column
    with pytest.raises(Exception, match=r"(?i)csv|nested|list"):
        testing.write_table(nested, "t.csv")
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == [
        ".artifacts.manifest.journal",
        ".artifacts.manifest.lock",
        "t.csv",
    ]


def test_reading_a_missing_table_raises_file_not_found(testing):
    with pytest.raises(FileNotFoundError):
        testing.read_table("absent.parquet")


def test_writes_into_a_version_dir_are_refused(production):
    production.write_table(DF, "t.tsv")
    version = production.publish_version()
    with pytest.raises(ArtifactPathError, match="immutable"):
        production.write_table(DF, f"{version}/t.tsv", force=True)
    with pytest.raises(ArtifactPathError, match="immutable"):
        production.get_artifact_path("latest/t.tsv")


def test_replaced_files_leave_no_temp_names_behind(testing):
    for height in (3, 2, 1):
        testing.write_table(DF.head(height), "t.parquet")
    wait_for_drops()
    names = sorted(os.listdir(testing.get_artifacts_dir()))
    assert names == [".artifacts.manifest.journal", ".artifacts.manifest.lock", "t.parquet"]
    assert testing.read_table("t.parquet").height == 1


@pytest.fixture
def syncs(monkeypatch):
    """The fsync/fdatasync calls made from here on (a spy: each still reaches the disk)."""
    calls: list[str] = []
    for name in ("fsync", "fdatasync"):
        real = getattr(os, name, None)
        if real is None:
            continue

        def spy(fd, _real=real, _name=name):
            calls.append(_name)
            return _real(fd)

        monkeypatch.setattr(os, name, spy)
    return calls


@pytest.mark.parametrize(
    ("mode", "durable", "synced"),
    [
        pytest.param("production", None, True, id="production-syncs-by-default"),
        pytest.param("test", None, False, id="test-mode-does-not-by-default"),
        pytest.param("production", False, False, id="production-opts-out"),
        pytest.param("test", True, True, id="test-mode-opts-in"),
    ],
)
@pytest.mark.parametrize("suffix", [".tsv", ".parquet"])
def test_writes_are_flushed_to_disk_by_the_durable_rule(
    data_root, syncs, mode, durable, synced, suffix
):
    config = ArtifactConfig(mode=mode, test_name="t", data_root=data_root, durable=durable)
    manager = ArtifactManager(config)
    manager.write_table(DF, f"a{suffix}")
    manager.write_table(DF, f"a{suffix}", force=True)  # a replacement too
    assert manager.read_table(f"a{suffix}").equals(DF)
    assert manager.validate_artifacts().ok
    assert bool(syncs) is synced, syncs


def test_durable_must_be_a_bool_or_none():
    with pytest.raises(ArtifactConfigError, match=r"durable.*'yes'.*True, False or None"):
        ArtifactConfig(durable="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("manager", ["production", "testing"])
def test_a_replaced_large_table_is_dropped_in_the_background_and_leaves_nothing(request, manager):
    manager = request.getfixturevalue(manager)
    big = pl.DataFrame({"position": range(RETIRE_FROM // 4)})  # well over RETIRE_FROM as CSV
    first = manager.write_table(big, "big.csv")
    assert first.stat().st_size >= RETIRE_FROM
    inode = first.stat().st_ino
    manager.write_table(big.head(3), "big.csv", force=True)
    wait_for_drops()
    assert first.stat().st_ino != inode
    assert manager.read_table("big.csv").equals(big.head(3))
    assert sorted(p.name for p in first.parent.iterdir() if not p.name.startswith(".")) == [
        "big.csv"
    ]
    assert not [p for p in first.parent.iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert manager.validate_artifacts().ok


def test_a_process_that_exits_right_after_replacing_a_large_table_leaves_nothing(data_root):
    # The background unlink is handed over, not awaited; exit waits for it.
    script = f"""
import polars as pl
from artifact_manager import ArtifactConfig, ArtifactManager
manager = ArtifactManager(ArtifactConfig(mode="test", test_name="t", data_root={str(data_root)!r}))
big = pl.DataFrame({{"position": range(2_000_000)}})  # ~15 MB: a slow unlink
for _ in range(3):
    manager.write_table(big, "big.csv")
print(manager.get_artifacts_dir())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    artifacts = Path(done.stdout.strip())
    assert not [p.name for p in artifacts.iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert (artifacts / "big.csv").stat().st_size >= RETIRE_FROM
