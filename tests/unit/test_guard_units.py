"""Guard building blocks without pytester: the policy, the watchers, Landlock's allow-list."""

from __future__ import annotations

import os
import struct

import pytest

from artifact_manager.guard.detect import InotifyWatcher, TreeDiffWatcher, Watcher
from artifact_manager.guard.policy import GuardPolicy
from artifact_manager.guard.resolution import real_entry
from artifact_manager.guard.strict import writable_hierarchies
from artifact_manager.violations import Violation


@pytest.fixture
def policy(tmp_path):
    return GuardPolicy.build([tmp_path / "data"], protect=[tmp_path / "ref"], allow=[])


@pytest.mark.parametrize(
    ("relative", "operation", "protected"),
    [
        ("data/x.tsv", "write", True),
        ("data/ensembl/GRCh37/spliceai_eval/meta_models/x.tsv", "write", True),
        ("data/ensembl/GRCh37/spliceai_eval/tests/t/x.tsv", "write", False),
        ("data/ensembl/GRCh37/spliceai_eval/tests", "mkdir", False),
        ("data/ensembl/GRCh37/spliceai_eval", "mkdir", False),
        ("data/ensembl", "mkdir", False),
        ("data/ensembl/GRCh37/spliceai_eval/meta_models", "mkdir", True),
        ("data/ensembl/GRCh37/other", "mkdir", True),
        ("data/ensembl/GRCh37/other_eval/tests/x", "write", False),
        ("ref/genome.fa", "write", True),
        ("elsewhere/x.tsv", "write", False),
        ("data_backup/x.tsv", "write", False),
    ],
)
def test_policy(tmp_path, policy, relative, operation, protected):
    assert policy.is_protected(real_entry(str(tmp_path / relative)), operation) is protected


def test_allow_wins_over_protect(tmp_path):
    policy = GuardPolicy.build([tmp_path / "data"], allow=[tmp_path / "data" / "scratch"])
    assert not policy.is_protected(real_entry(str(tmp_path / "data" / "scratch" / "x")))


def test_entry_resolution_keeps_the_final_link(tmp_path, policy):
    (tmp_path / "data").mkdir()
    os.symlink(tmp_path / "data", tmp_path / "link_dir")
    os.symlink(tmp_path / "data" / "x", tmp_path / "link_file")
    # writing through a symlinked dir lands in data: protected
    assert policy.is_protected(real_entry(str(tmp_path / "link_dir" / "x")))
    # the link itself lives outside: removing it is not a production write
    assert not policy.is_protected(real_entry(str(tmp_path / "link_file")))


@pytest.mark.parametrize(
    ("phase", "fixture_phase", "where"),
    [
        ("call", "", "in the call of t.py::test_x"),
        (
            "setup",
            "setup",
            "in the setup of fixture 'f' (f-scoped) (while setting up t.py::test_x)",
        ),
        (
            "teardown",
            "teardown",
            "in the teardown of fixture 'f' (f-scoped) (while tearing down t.py::test_x)",
        ),
        (
            "call",
            "setup",
            "in the setup of fixture 'f' (f-scoped) (set up by request.getfixturevalue in the"
            " call of t.py::test_x)",
        ),
        (
            "setup",
            "teardown",
            "in the teardown of fixture 'f' (f-scoped) (torn down while setting up t.py::test_x)",
        ),
        # a report written before fixture_phase existed named only fixtures being set up
        ("setup", None, "in the setup of fixture 'f' (f-scoped) (while setting up t.py::test_x)"),
    ],
)
def test_a_violation_says_which_part_of_its_fixture_ran_in_which_phase(phase, fixture_phase, where):
    raw = {"test": "t.py::test_x", "phase": phase, "path": "/p", "operation": "delete"}
    raw["layer"] = "prevented"
    if fixture_phase != "":
        raw["fixture"] = "'f' (f-scoped)"
    if fixture_phase:
        raw["fixture_phase"] = fixture_phase
    violation = Violation.from_dict(raw)
    assert violation.line() == f"blocked: delete /p ({where})"
    assert Violation.from_dict(violation.as_dict()) == violation


@pytest.mark.parametrize("watcher_class", [InotifyWatcher, TreeDiffWatcher])
def test_watchers_see_changes_in_protected_trees_only(tmp_path, policy, watcher_class):
    meta = tmp_path / "data" / "ensembl" / "GRCh37" / "spliceai_eval" / "meta_models"
    tests = meta.parent / "tests"
    meta.mkdir(parents=True)
    tests.mkdir()
    (meta / "old.tsv").write_text("old")
    watcher = watcher_class([str(p) for p in (tmp_path / "data",)], policy.is_protected)
    try:
        assert watcher.changes() == []
        (tests / "t1").mkdir()
        (tests / "t1" / "x.tsv").write_text("test output")
        (meta / "new.tsv").write_text("x")
        (meta / "old.tsv").unlink()
        (meta / "sub").mkdir()
        found = {(os.path.basename(c.path), c.kind) for c in watcher.changes()}
        assert ("new.tsv", "created") in found
        assert ("old.tsv", "deleted") in found
        assert not [name for name, _ in found if name in ("t1", "x.tsv")]
        assert watcher.changes() == []  # each change is reported once
        (meta / "sub" / "deep.tsv").write_text("x")  # a dir created after the watcher started
        assert "deep.tsv" in {os.path.basename(c.path) for c in watcher.changes()}
    finally:
        watcher.close()


def test_inotify_is_pending_exactly_while_a_change_is_queued(tmp_path, policy):
    """``pending()`` is the per-phase look of every test: False must mean ``changes()`` would
    find nothing, and it must not consume what it saw."""
    meta = tmp_path / "data" / "ensembl" / "GRCh37" / "spliceai_eval" / "meta_models"
    meta.mkdir(parents=True)
    watcher = InotifyWatcher([str(tmp_path / "data")], policy.is_protected)
    try:
        assert watcher.pending() is False
        (meta / "new.tsv").write_text("x")
        assert watcher.pending() is True
        assert watcher.pending() is True  # asking again consumes nothing
        assert [os.path.basename(c.path) for c in watcher.changes()] == ["new.tsv"]
        assert watcher.pending() is False
    finally:
        watcher.close()


def test_tree_diff_is_always_pending_and_the_null_watcher_never(tmp_path, policy):
    """Only a walk tells what a tree diff would find; a watcher that sees nothing (guard off,
    xdist worker) has nothing to say."""
    watcher = TreeDiffWatcher([str(tmp_path / "data")], policy.is_protected)
    assert watcher.pending() is True
    assert Watcher().pending() is False


def test_inotify_sees_a_data_root_created_later(tmp_path, policy):
    watcher = InotifyWatcher([str(tmp_path / "data")], policy.is_protected)
    try:
        meta = tmp_path / "data" / "ensembl" / "GRCh37" / "spliceai_eval" / "meta_models"
        meta.mkdir(parents=True)  # leading dirs: allowed, but watched from now on
        early = {os.path.basename(c.path) for c in watcher.changes()}
        assert early <= {"meta_models"}  # its creation may fall before its parent's watch
        (meta / "late.tsv").write_text("x")
        assert "late.tsv" in {os.path.basename(c.path) for c in watcher.changes()}
    finally:
        watcher.close()


def test_inotify_sees_a_data_root_moved_into_place_with_its_parent(tmp_path):
    project = tmp_path / "project"  # missing too: the watch is on tmp_path
    staged = tmp_path / "staging" / "project"
    meta = staged / "data" / "ensembl" / "GRCh37" / "spliceai_eval" / "meta_models"
    meta.mkdir(parents=True)
    policy = GuardPolicy.build([project / "data"])
    watcher = InotifyWatcher([str(project / "data")], policy.is_protected)
    try:
        staged.rename(project)
        watcher.changes()
        moved = project / "data" / "ensembl" / "GRCh37" / "spliceai_eval" / "meta_models"
        (moved / "late.tsv").write_text("x")
        assert "late.tsv" in {os.path.basename(c.path) for c in watcher.changes()}
    finally:
        watcher.close()


def test_inotify_queues_nothing_for_writes_in_the_ancestor_of_a_missing_root(tmp_path, policy):
    """The ancestor is watched for the root appearing, not for its own files: it may be the
    system temp dir, where pytest's output capture writes every phase, and every queued
    event costs each per-phase look a read."""
    busy = tmp_path / "capture.txt"
    busy.write_text("")
    watcher = InotifyWatcher([str(tmp_path / "data")], policy.is_protected)
    try:
        with busy.open("r+") as out:
            for _ in range(3):
                out.truncate(0)
                out.write("captured output\n")
                out.flush()
        (tmp_path / "other.txt").write_text("x")  # created: queued, and not the root
        queued = os.read(watcher._fd, 65536)  # the watcher's queue, read directly
        _wd, _mask, _cookie, length = struct.unpack_from("iIII", queued)
        assert queued[16 : 16 + length].rstrip(b"\0") == b"other.txt"
        assert len(queued) == 16 + length, "more than the one creation was queued"
    finally:
        watcher.close()


def test_landlock_allow_list_is_everything_beside_the_protected_tree(tmp_path):
    data = tmp_path / "project" / "data"
    tests = data / "ensembl" / "GRCh37" / "spliceai_eval" / "tests"
    tests.mkdir(parents=True)
    (data / "ensembl" / "GRCh37" / "spliceai_eval" / "meta_models").mkdir()
    (tmp_path / "project" / "src").mkdir()
    (tmp_path / "project" / "README.md").write_text("x")
    (tmp_path / "sibling").mkdir()
    writable = writable_hierarchies(GuardPolicy.build([data]))
    assert str(tmp_path / "project" / "src") in writable
    assert str(tmp_path / "project" / "README.md") in writable
    assert str(tmp_path / "sibling") in writable
    assert str(tests) in writable
    for path in writable:
        assert path != str(data)
        assert not str(data).startswith(path + os.sep), path  # no ancestor of the data root
        assert not path.startswith(str(data) + os.sep) or path == str(tests)
