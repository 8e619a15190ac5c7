from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime

import polars as pl
import pytest

from artifact_manager import (
    ArtifactConfig,
    ArtifactManager,
    ArtifactManifestError,
    ArtifactPathError,
)

DF = pl.DataFrame({"a": [1, 2, 3]})

WRITER = """
import sys
import polars as pl
from artifact_manager import ArtifactConfig, ArtifactManager

manager = ArtifactManager(ArtifactConfig(mode="test", test_name="race", data_root=sys.argv[1]))
for i in range(int(sys.argv[3])):
    manager.write_table(pl.DataFrame({"i": [i]}), f"w{sys.argv[2]}-{i}.parquet")
"""


def test_every_write_is_recorded_with_size_checksum_time_and_writer(testing):
    path = testing.write_table(DF, "t.parquet")
    row = testing.get_artifact_metadata("t.parquet")
    assert set(row) == {"name", "size", "sha256", "written_at", "writer"}
    assert row["name"] == "t.parquet"
    assert row["size"] == path.stat().st_size
    assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert datetime.fromisoformat(row["written_at"]).tzinfo is not None
    assert "pid" in row["writer"]


def test_nested_names_are_recorded_by_relative_path(testing):
    testing.write_table(DF, "sub/dir/t.tsv")
    assert testing.get_artifact_metadata("sub/dir/t.tsv")["name"] == "sub/dir/t.tsv"
    assert testing.validate_artifacts().ok


def test_validation_finds_missing_modified_and_unlisted(testing):
    for name in ["keep.tsv", "change.tsv", "gone.tsv"]:
        testing.write_table(DF, name)
    artifacts = testing.get_artifacts_dir()
    (artifacts / "change.tsv").write_text("a\n9\n")
    (artifacts / "gone.tsv").unlink()
    (artifacts / "stranger.tsv").write_text("a\n1\n")
    report = testing.validate_artifacts()
    assert (report.missing, report.modified, report.unlisted) == (
        ["gone.tsv"],
        ["change.tsv"],
        ["stranger.tsv"],
    )
    assert report["missing"] == ["gone.tsv"]
    assert report.ok is False
    assert report.as_dict()["ok"] is False


@pytest.mark.parametrize("mode", ["test", "production"])
def test_same_size_modification_is_caught_by_the_checksum(data_root, mode):
    manager = ArtifactManager(ArtifactConfig(mode=mode, test_name="t1", data_root=data_root))
    path = manager.write_table(pl.DataFrame({"a": [1]}), "t.csv")
    path.write_text(path.read_text().replace("1", "2"))
    assert manager.validate_artifacts().modified == ["t.csv"]


def _journal_rows(manager: ArtifactManager) -> list[dict[str, object]]:
    lines = manager.manifest.journal.read_text().splitlines()
    return [row for line in lines for row in json.loads(line)["add"]]


def _sha256(path: os.PathLike[str]) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_test_mode_hashes_a_table_when_its_checksum_is_first_asked_for(testing):
    path = testing.write_table(DF, "t.parquet")
    [row] = _journal_rows(testing)
    assert row["sha256"] == ""
    info = path.stat()
    assert row["stamp"] == [info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]
    assert testing.validate_artifacts().ok  # by the stamp
    assert testing.get_artifact_metadata("t.parquet")["sha256"] == _sha256(path)
    settled = _journal_rows(testing)[-1]
    assert settled["sha256"] == _sha256(path)
    assert "stamp" not in settled
    assert testing.validate_artifacts().ok  # now by the checksum


def test_production_hashes_a_table_as_it_writes_it(production):
    path = production.write_table(DF, "t.tsv")
    [row] = _journal_rows(production)
    assert row["sha256"] == _sha256(path)
    assert "stamp" not in row


@pytest.mark.parametrize("how", ["in place", "in place, mtime restored", "renamed over"])
def test_a_same_size_rewrite_right_after_a_test_mode_write_is_caught(testing, how):
    # Right after the write: within the file system's timestamp tick (~4 ms on ext4; Linux
    # 6.13+ gives a write after a stat a fine-grained time) a plain mtime would not change.
    # A tool that restores the mtime (touch -r, rsync -t) cannot restore the ctime.
    for value in range(20):
        path = testing.write_table(pl.DataFrame({"a": [value % 10]}), "t.csv")
        before = path.stat()
        content = path.read_bytes().replace(b"\n%d" % (value % 10), b"\n%d" % (9 - value % 10))
        if how.startswith("in place"):
            fd = os.open(path, os.O_WRONLY)
            os.write(fd, content)
            os.close(fd)
            if how.endswith("restored"):
                os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        else:
            path.with_name("new.tmp").write_bytes(content)
            os.replace(path.with_name("new.tmp"), path)
        assert testing.validate_artifacts().modified == ["t.csv"], value
        assert testing.get_artifact_metadata("t.csv")["sha256"] is None


def test_a_pending_checksum_is_not_recorded_for_a_file_written_meanwhile(testing):
    path = testing.write_table(DF, "t.parquet")
    path.write_bytes(path.read_bytes())  # same content, but written since
    assert testing.manifest.settle()["t.parquet"].pending
    assert testing.validate_artifacts().modified == ["t.parquet"]


def test_a_corrupt_stamp_is_a_clear_error(testing):
    testing.write_table(DF, "a.tsv")
    with testing.manifest.journal.open("ab") as handle:
        handle.write(b'{"add":[{"name":"b.tsv","size":1,"sha256":"","written_at":"",')
        handle.write(b'"writer":"","stamp":[1,2]}],"remove":[]}\n')
    with pytest.raises(ArtifactManifestError, match=r"corrupt at line 2.*stamp \[1, 2\]"):
        testing.validate_artifacts()


def test_own_files_versions_and_temp_files_are_not_artifacts(production):
    production.write_table(DF, "t.tsv")
    production.publish_version()
    (production.get_artifacts_dir() / ".artifacts.tmp-abc-x.tsv").write_text("torn")
    assert production.validate_artifacts().ok


def test_empty_or_missing_dir_validates(testing):
    assert testing.validate_artifacts().ok


def test_record_artifact_adds_a_file_written_by_other_means(testing):
    path = testing.get_artifact_path("seed.tsv", create_dir=True)
    DF.write_csv(path, separator="\t")
    assert testing.validate_artifacts().unlisted == ["seed.tsv"]
    row = testing.record_artifact("seed.tsv")
    assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert testing.validate_artifacts().ok
    with pytest.raises(ArtifactPathError, match="write it before recording"):
        testing.record_artifact("absent.tsv")


@pytest.mark.parametrize("link", ["file", "parent dir"])
def test_record_artifact_refuses_a_file_reached_through_a_symlink(production, link):
    production.write_table(DF, "sub/x.tsv")
    artifacts = production.get_artifacts_dir()
    if link == "file":
        (artifacts / "alias.tsv").symlink_to("sub/x.tsv")
        name, linked = "alias.tsv", "alias.tsv"
    else:
        (artifacts / "alias").symlink_to("sub")
        name, linked = "alias/x.tsv", "alias"
    with pytest.raises(ArtifactPathError, match=rf"symlink '{linked}'.*copy the file"):
        production.record_artifact(name)
    assert set(production.manifest.read()) == {"sub/x.tsv"}
    assert production.validate_artifacts().ok


def test_metadata_of_an_unknown_artifact_is_a_clear_error(testing):
    with pytest.raises(ArtifactPathError, match=r"not in the manifest.*record_artifact"):
        testing.get_artifact_metadata("absent.tsv")


@pytest.mark.parametrize(
    ("content", "problem"),
    [("{not json", "is corrupt"), ('{"format": 99, "artifacts": {}}', "format 99")],
)
def test_unreadable_manifest_is_a_clear_error(testing, content, problem):
    testing.write_table(DF, "t.tsv")
    manifest = testing.get_artifacts_dir() / ".artifacts.manifest.json"
    manifest.write_text(content)
    with pytest.raises(ArtifactManifestError, match=problem) as info:
        testing.validate_artifacts()
    assert str(manifest) in str(info.value)
    assert "move it aside" in str(info.value)
    assert (testing.get_artifacts_dir() / "t.tsv").exists()  # nothing lost


def test_four_processes_writing_100_tables_each_lose_no_entry(data_root, testing):
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(data_root), str(w), "100"])
        for w in range(4)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0, 0]
    manager = ArtifactManager(ArtifactConfig(mode="test", test_name="race", data_root=data_root))
    entries = manager.manifest.read()
    assert len(entries) == 400
    assert manager.validate_artifacts().ok


def test_a_line_torn_by_a_crash_is_the_update_that_did_not_happen(testing):
    testing.write_table(DF, "a.tsv")
    journal = testing.get_artifacts_dir() / ".artifacts.manifest.journal"
    with journal.open("ab") as handle:
        handle.write(b'{"add":[{"name":"b.tsv","si')  # killed mid-append
    assert set(testing.manifest.read()) == {"a.tsv"}
    testing.write_table(DF, "c.tsv")  # the next append starts on a line of its own...
    assert set(testing.manifest.read()) == {"a.tsv", "c.tsv"}  # ...and is read whole


def test_a_corrupt_journal_line_is_a_clear_error_naming_the_line(testing):
    testing.write_table(DF, "a.tsv")
    journal = testing.get_artifacts_dir() / ".artifacts.manifest.journal"
    with journal.open("ab") as handle:
        handle.write(b"not json\n")
    with pytest.raises(ArtifactManifestError, match=r"journal.*corrupt at line 2"):
        testing.validate_artifacts()


@pytest.mark.parametrize(
    "line",
    [
        b'{"add":{"name":"x.tsv"},"remove":[]}',  # "add" an object, not a list
        b'{"add":["x.tsv"],"remove":[]}',
        b'{"add":[],"remove":5}',
        b'{"add":[],"remove":[["x.tsv"]]}',
        b"[]",
        b'"text"',
    ],
)
def test_a_journal_line_of_the_wrong_shape_is_a_clear_error_naming_the_line(testing, line):
    testing.write_table(DF, "x.tsv")
    journal = testing.get_artifacts_dir() / ".artifacts.manifest.journal"
    with journal.open("ab") as handle:
        handle.write(line + b"\n")
    with pytest.raises(ArtifactManifestError, match=r"journal.*corrupt at line 2"):
        testing.validate_artifacts()


def test_a_long_journal_is_folded_into_the_snapshot(testing, monkeypatch):
    from artifact_manager.storage import manifest

    monkeypatch.setattr(manifest, "COMPACT_AFTER", 2_000)
    for index in range(40):
        testing.write_table(DF, f"t{index}.tsv")
    testing.manifest.update(remove=["t0.tsv"])
    out = testing.get_artifacts_dir()
    assert (out / ".artifacts.manifest.json").stat().st_size > 0
    assert (out / ".artifacts.manifest.journal").stat().st_size < 2_000 + 400
    entries = testing.manifest.read()
    assert set(entries) == {f"t{i}.tsv" for i in range(1, 40)}
    (out / "t0.tsv").unlink()
    assert testing.validate_artifacts().ok
    assert entries["t1.tsv"].pending  # folded into the snapshot as it was: a stamp
    row = testing.get_artifact_metadata("t1.tsv")
    assert row["sha256"] == _sha256(out / "t1.tsv")


def test_replaying_a_journal_already_in_the_snapshot_changes_nothing(testing):
    for name in ("a.tsv", "b.tsv"):
        testing.write_table(DF, name)
    testing.manifest.update(remove=["a.tsv"])
    manifest = testing.manifest
    journal = manifest.journal.read_bytes()
    entries = manifest.read()
    manifest._write(entries, sync_dir=False)  # a crash after the snapshot, before the truncate
    assert manifest.journal.read_bytes() == journal
    assert manifest.read() == entries


@pytest.mark.parametrize("compacting", [False, True], ids=["append", "compaction"])
def test_a_symlink_planted_at_the_journal_is_refused_and_its_target_untouched(
    testing, tmp_path, monkeypatch, compacting
):
    from artifact_manager.storage import manifest

    if compacting:  # the journal is emptied after folding: never the file a link leads to
        monkeypatch.setattr(manifest, "COMPACT_AFTER", 1)
    outside = tmp_path / "outside.log"
    outside.write_bytes(b"line 1\nline 2 with no newline at the end")
    artifacts = testing.get_artifacts_dir()
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / ".artifacts.manifest.journal").symlink_to(outside)
    with pytest.raises(ArtifactManifestError, match="is a symlink"):
        testing.write_table(DF, "a.tsv")
    assert outside.read_bytes() == b"line 1\nline 2 with no newline at the end"


FULL_DISK = """
import resource, signal, sys
import polars as pl
from artifact_manager import ArtifactConfig, ArtifactManager

manager = ArtifactManager(ArtifactConfig(mode="test", test_name="t", data_root=sys.argv[1]))
manager.write_table(pl.DataFrame({"a": [1]}), "a.tsv")
journal = manager.get_artifacts_dir() / ".artifacts.manifest.journal"
size = journal.stat().st_size
# The kernel's own short write: a file may grow by 10 more bytes (a full disk does the same)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 10, resource.RLIM_INFINITY))
try:
    manager.manifest.update([manager.manifest.read()["a.tsv"]])
except OSError as error:
    print("raised:", error)
print("size", journal.stat().st_size == size, "whole lines", journal.read_bytes().endswith(b"\\n"))
"""


def test_a_short_write_to_the_journal_raises_and_leaves_whole_lines(data_root):
    out = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(data_root)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "raised: [Errno 28] only 10 of" in out.stdout
    assert "manifest update" in out.stdout
    assert "was not recorded" in out.stdout
    assert "size True whole lines True" in out.stdout


FULL_DISK_PRODUCTION = """
import resource, signal, sys
import polars as pl
from artifact_manager import ArtifactConfig, ArtifactManager

manager = ArtifactManager(ArtifactConfig(mode="production", data_root=sys.argv[1]))
frame = pl.DataFrame({"a": [1]})
manager.write_table(frame, "first.tsv")
journal = manager.get_artifacts_dir() / ".artifacts.manifest.journal"
# The table (4 bytes) fits; the journal's next line does not (a full disk does the same).
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (journal.stat().st_size + 10, resource.RLIM_INFINITY))
try:
    manager.write_table(frame, "last.tsv")
except OSError as error:
    print("raised:", error)
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
print("unlisted:", manager.validate_artifacts().unlisted)
"""


def test_a_full_disk_under_a_production_write_names_a_remedy_that_works(data_root):
    out = subprocess.run(
        [sys.executable, "-c", FULL_DISK_PRODUCTION, str(data_root)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "raised: [Errno 28]" in out.stdout
    assert "then add it to the manifest with record_artifact('last.tsv')" in out.stdout
    assert "write the artifact again" not in out.stdout  # it exists: that would be refused
    assert "unlisted: ['last.tsv']" in out.stdout
    manager = ArtifactManager(ArtifactConfig(mode="production", data_root=data_root))
    manager.record_artifact("last.tsv")  # the remedy
    assert manager.validate_artifacts().ok


LOCKSTEP_WRITER = """
import sys
import polars as pl
from artifact_manager import ArtifactConfig, ArtifactManager

manager = ArtifactManager(ArtifactConfig(mode="production", data_root=sys.argv[1]))
frame = pl.DataFrame({"writer": [sys.argv[2]] * 50})
for line in sys.stdin:
    manager.write_table(frame, "table.tsv", force=True)
    print("done", flush=True)
"""


def test_two_production_writers_of_one_table_leave_the_winners_checksum(data_root):
    """Both write the table in each round (started together); after the round the manifest
    holds the checksum of the file that won. Publish and record were two steps, and about
    one round in eight left the loser's checksum."""
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", LOCKSTEP_WRITER, str(data_root), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    manager = ArtifactManager(ArtifactConfig(mode="production", data_root=data_root))
    try:
        for round_ in range(100):
            for writer in writers:
                assert writer.stdin is not None
                writer.stdin.write("go\n")
                writer.stdin.flush()
            for writer in writers:
                assert writer.stdout is not None
                assert writer.stdout.readline() == "done\n"
            report = manager.validate_artifacts()
            assert report.ok, f"round {round_}: {report}"
    finally:
        for writer in writers:
            assert writer.stdin is not None
            assert writer.stdout is not None
            writer.stdin.close()
            writer.wait(timeout=60)
            writer.stdout.close()


def test_a_read_while_another_writer_compacts_misses_no_entry(testing, monkeypatch):
    """The snapshot is read, then another writer folds the journal into a new snapshot and
    empties the journal, then the journal is read: the read is done again, not short."""
    from artifact_manager.storage.manifest import Manifest

    for index in range(5):
        testing.write_table(DF, f"t{index}.tsv")
    root = testing.get_artifacts_dir()
    read_snapshot = Manifest._read_snapshot
    compactions = []

    def compacted_after_the_first_snapshot_read(self):
        entries = read_snapshot(self)
        if not compactions:
            compactions.append(True)
            other = Manifest(root, durable=False)
            other._write(other.read(), sync_dir=False)  # as a compacting writer does
            other._empty_journal()
        return entries

    monkeypatch.setattr(Manifest, "_read_snapshot", compacted_after_the_first_snapshot_read)
    assert set(Manifest(root).read()) == {f"t{i}.tsv" for i in range(5)}
    assert compactions
