"""The core retention rules (pytest-free): keep markers, live sessions, reaping."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from artifact_manager.layout import lock_path_for
from artifact_manager.storage.locks import acquire
from artifact_manager.storage.retention import (
    KEEP_MARKER,
    KeepMarker,
    SessionInfo,
    hold_session,
    reap,
    session_is_live,
    write_shared_session,
)

NOW = SessionInfo("now", 1000.0)


def kept_dir(tests_root: Path, name: str, session: SessionInfo) -> Path:
    root = tests_root / name
    root.mkdir(parents=True)
    KeepMarker.now(session, "all", "passed", f"test_x.py::{name}").write(root)
    return root


def reap_now(tests_root: Path, count: int = 3) -> list[str]:
    discarded: list[str] = []

    def discard(path: Path) -> None:
        discarded.append(path.name)
        os.rename(path, path.with_name(".artifacts.gone-" + path.name))

    reap(tests_root, session=NOW, retention_count=count, discard=discard)
    return sorted(discarded)


def test_a_keep_marker_round_trips_and_a_broken_one_counts_as_none(tmp_path):
    root = kept_dir(tmp_path, "t", NOW)
    marker = KeepMarker.read(root)
    assert marker is not None
    assert (marker.session_id, marker.policy, marker.nodeid) == ("now", "all", "test_x.py::t")
    (root / KEEP_MARKER).write_text("{not json")
    assert KeepMarker.read(root) is None


def test_orphans_go_and_dirs_of_the_newest_sessions_stay(tmp_path):
    for n in range(1, 5):
        kept_dir(tmp_path, f"kept{n}", SessionInfo(f"s{n}", float(n)))
    (tmp_path / "orphan").mkdir()
    assert reap_now(tmp_path, count=3) == ["kept1", "kept2", "orphan"]  # s3, s4 + now = 3


def test_a_locked_dir_and_a_live_sessions_shared_dir_stay(tmp_path):
    held = tmp_path / "held"
    held.mkdir()
    shared = tmp_path / "shared"
    shared.mkdir()
    write_shared_session(shared, "alive")
    dead_shared = tmp_path / "dead_shared"
    dead_shared.mkdir()
    write_shared_session(dead_shared, "dead")
    with acquire(lock_path_for(held), timeout=0, owner="t"), hold_session(tmp_path, "alive"):
        assert reap_now(tmp_path) == ["dead_shared"]


def test_symlinks_and_files_in_the_tests_root_are_left_alone(tmp_path):
    target = tmp_path / "outside"
    target.mkdir()
    tests_root = tmp_path / "tests"
    tests_root.mkdir()
    (tests_root / "link").symlink_to(target, target_is_directory=True)
    (tests_root / "file.txt").write_text("x")
    assert reap_now(tests_root) == []
    assert (tests_root / "link").is_symlink()


def test_a_session_is_live_while_any_process_holds_it_and_dead_after(tmp_path):
    assert not session_is_live(tmp_path, "s")
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys
                from pathlib import Path
                from artifact_manager.storage.retention import hold_session
                hold_session(Path({str(tmp_path)!r}), "s")
                print("held", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "held\n"
    with hold_session(tmp_path, "s"):  # shared: a second holder does not wait
        assert session_is_live(tmp_path, "s")
    assert session_is_live(tmp_path, "s")
    child.kill()
    child.communicate()
    assert not session_is_live(tmp_path, "s")
    assert list((tmp_path / ".artifacts.locks").iterdir()) == []  # the dead lock is removed


def test_a_holder_never_keeps_a_lock_file_that_was_removed(tmp_path):
    assert not session_is_live(tmp_path, "s")  # nothing there yet: nothing is created
    with hold_session(tmp_path, "s"):
        lock = next((tmp_path / ".artifacts.locks").iterdir())
        os.unlink(lock)  # as a reaper would, had it found the session dead a moment earlier
        assert not session_is_live(tmp_path, "s")  # the holder's inode is gone from the path
    with hold_session(tmp_path, "s"):  # a new holder re-opens the path: visible again
        assert session_is_live(tmp_path, "s")


def test_writing_a_marker_never_follows_a_planted_symlink(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    root = tmp_path / "t"
    root.mkdir()
    (root / (KEEP_MARKER + ".tmp")).symlink_to(outside)
    (root / KEEP_MARKER).symlink_to(outside)
    KeepMarker.now(NOW, "all", "passed", "test_x.py::t").write(root)
    assert outside.read_text() == "precious"
    assert not (root / KEEP_MARKER).is_symlink()
    assert KeepMarker.read(root) is not None
