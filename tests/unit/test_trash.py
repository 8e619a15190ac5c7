from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from artifact_manager.storage.locks import acquire
from artifact_manager.storage.trash import TRASH_DIRNAME, Trash, empty_stale_bins


def make_tree(root: Path, files: int = 3) -> Path:
    (root / "a" / "b").mkdir(parents=True)
    for index in range(files):
        (root / "a" / "b" / f"f{index}.tsv").write_text("x\n")
    return root


def bins(parent: Path) -> list[str]:
    trash_dir = parent / TRASH_DIRNAME
    return sorted(p.name for p in trash_dir.iterdir()) if trash_dir.is_dir() else []


def test_a_discarded_dir_loses_its_name_at_once_and_is_deleted_by_close(tmp_path):
    root = make_tree(tmp_path / "t1")
    trash = Trash(owner="test")
    trash.discard(root)
    assert not os.path.lexists(root)
    root.mkdir()  # the name is free for the next attempt at once
    assert trash.close() == []
    assert bins(tmp_path) == []
    assert root.is_dir()


def test_a_full_backlog_is_deleted_while_the_rest_waits_for_close(tmp_path):
    trash = Trash(owner="test", backlog=2)
    for name in ("t1", "t2", "t3"):
        trash.discard(make_tree(tmp_path / name))
    (bin_name,) = [n for n in bins(tmp_path) if not n.endswith(".lock")]
    bin_dir = tmp_path / TRASH_DIRNAME / bin_name
    deadline = time.monotonic() + 30
    while sorted(os.listdir(bin_dir)) != ["2-t3"]:  # the first two went as one batch
        assert time.monotonic() < deadline, os.listdir(bin_dir)
        time.sleep(0.01)
    assert trash.close() == []
    assert bins(tmp_path) == []


def test_discarding_a_missing_path_does_nothing(tmp_path):
    trash = Trash(owner="test")
    trash.discard(tmp_path / "absent")
    assert trash.close() == []
    assert not (tmp_path / TRASH_DIRNAME).exists()


def test_a_symlink_is_discarded_as_a_link_and_its_target_survives(tmp_path):
    precious = make_tree(tmp_path / "outside" / "precious")
    (tmp_path / "tests").mkdir()
    link = tmp_path / "tests" / "t1"
    link.symlink_to(precious, target_is_directory=True)
    planted = make_tree(tmp_path / "tests" / "t2")
    (planted / "a" / "escape").symlink_to(precious, target_is_directory=True)
    trash = Trash(owner="test")
    trash.discard(link)
    trash.discard(planted)
    assert trash.close() == []
    assert not os.path.lexists(link)
    assert not os.path.lexists(planted)
    assert sorted(p.name for p in (precious / "a" / "b").iterdir()) == [
        "f0.tsv",
        "f1.tsv",
        "f2.tsv",
    ]


def test_a_dead_process_bin_is_emptied_by_the_next_trash_beside_it(tmp_path):
    stale = make_tree(tmp_path / TRASH_DIRNAME / "4242-deadbeef" / "0-t1")
    (tmp_path / TRASH_DIRNAME / "4242-deadbeef.lock").write_text("pid 4242\n")
    trash = Trash(owner="test")
    trash.discard(make_tree(tmp_path / "t2"))
    assert trash.close() == []
    assert not stale.exists()
    assert bins(tmp_path) == []


def test_a_live_process_bin_is_left_alone(tmp_path):
    live = make_tree(tmp_path / TRASH_DIRNAME / "77-cafecafe" / "0-t1")
    with acquire(tmp_path / TRASH_DIRNAME / "77-cafecafe.lock", timeout=0, owner="alive"):
        # The holder is another open file description: to the trash it is another process.
        trash = Trash(owner="test")
        trash.discard(make_tree(tmp_path / "t2"))
        assert trash.close() == []
        assert live.is_dir()
    assert bins(tmp_path) == ["77-cafecafe", "77-cafecafe.lock"]


def test_a_trash_dir_planted_as_a_symlink_is_not_followed(tmp_path):
    victim = make_tree(tmp_path / "victim")
    (victim / "important").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / TRASH_DIRNAME).symlink_to(victim, target_is_directory=True)
    root = make_tree(tmp_path / "tests" / "t1")
    trash = Trash(owner="test")
    trash.discard(root)  # no bin through the link: removed in place
    assert not os.path.lexists(root)
    assert trash.close() == []
    assert sorted(os.listdir(victim)) == ["a", "important"]
    assert (victim / "a" / "b" / "f0.tsv").is_file()
    assert (tmp_path / "tests" / TRASH_DIRNAME).is_symlink()


def test_a_trash_dir_that_is_a_file_makes_discard_remove_in_place(tmp_path):
    (tmp_path / TRASH_DIRNAME).write_text("not a dir\n")
    root = make_tree(tmp_path / "t1")
    trash = Trash(owner="test")
    trash.discard(root)
    assert not os.path.lexists(root)
    assert trash.close() == []
    assert (tmp_path / TRASH_DIRNAME).read_text() == "not a dir\n"


def test_stale_bins_are_not_emptied_through_a_symlinked_trash_dir(tmp_path):
    victim = make_tree(tmp_path / "victim")
    link = tmp_path / TRASH_DIRNAME
    link.symlink_to(victim, target_is_directory=True)
    assert empty_stale_bins(link) == []
    assert (victim / "a" / "b" / "f0.tsv").is_file()
    assert os.listdir(victim) == ["a"]


KILLED = textwrap.dedent(
    """
    import os, signal, sys, threading
    from pathlib import Path
    from artifact_manager.storage import trash as trash_module

    root = Path(sys.argv[1])
    trash_module.remove_tree = lambda path: threading.Event().wait()  # never deletes
    trash = trash_module.Trash(owner="killed")
    trash.discard(root)
    print("discarded", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_the_bin_of_a_killed_process_is_emptied_by_the_next_session(tmp_path):
    root = make_tree(tmp_path / "t1", files=50)
    child = subprocess.run(
        [sys.executable, "-c", KILLED, str(root)], capture_output=True, text=True, timeout=60
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert child.stdout == "discarded\n"
    assert not root.exists()
    (left,) = [name for name in bins(tmp_path) if not name.endswith(".lock")]
    assert (tmp_path / TRASH_DIRNAME / left / "0-t1" / "a" / "b" / "f49.tsv").is_file()
    trash = Trash(owner="next")
    trash.discard(make_tree(tmp_path / "t2"))
    assert trash.close() == []
    assert bins(tmp_path) == []


def test_short_of_space_the_backlog_is_not_kept(tmp_path):
    """While the file system has less free space than ``low_space`` (here: more bytes than
    any disk has), every discarded dir is deleted at once, backlog or not."""
    trash = Trash(owner="test", backlog=1000, low_space=2**62)
    trash.discard(make_tree(tmp_path / "t1"))
    (bin_name,) = [n for n in bins(tmp_path) if not n.endswith(".lock")]
    bin_dir = tmp_path / TRASH_DIRNAME / bin_name
    deadline = time.monotonic() + 30
    while os.listdir(bin_dir):  # deleted before close
        assert time.monotonic() < deadline, os.listdir(bin_dir)
        time.sleep(0.01)
    assert trash.close() == []


def test_with_space_to_spare_the_backlog_waits_for_close(tmp_path):
    trash = Trash(owner="test", backlog=1000, low_space=0)
    trash.discard(make_tree(tmp_path / "t1"))
    (bin_name,) = [n for n in bins(tmp_path) if not n.endswith(".lock")]
    time.sleep(0.2)  # the thread would have deleted it by now, were it asked to
    assert os.listdir(tmp_path / TRASH_DIRNAME / bin_name) == ["0-t1"]
    assert trash.close() == []
    assert bins(tmp_path) == []
