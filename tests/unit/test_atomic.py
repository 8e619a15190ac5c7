"""Replacing a file atomically: readers never miss it, the guard sees every replacement as a
rename, and the fallback (no ``renameat2`` exchange) keeps the same rules."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from artifact_manager.storage import atomic
from artifact_manager.storage.atomic import RETIRE_FROM, TEMP_PREFIX, publish, wait_for_drops


def replace_with(target, text):
    temp = atomic.temp_path_for(target)
    temp.write_text(text)
    publish(temp, target, replace=True, durable=False)
    assert not temp.exists()


@pytest.fixture(params=["exchange", "rename"])
def way(request, monkeypatch):
    """Each test runs with the exchange where this system has it, and with the fallback."""
    if request.param == "rename":
        monkeypatch.setattr(atomic, "_renameat2", False)
    return request.param


@pytest.mark.parametrize("size", [10, RETIRE_FROM + 1])  # unlinked now / in the background
def test_a_reader_never_finds_the_target_missing_nor_torn(tmp_path, way, size):
    target = tmp_path / "table.tsv"
    texts = [c * size for c in "ab"]
    target.write_text(texts[0])
    seen, stop = set(), threading.Event()

    def read():
        while not stop.is_set():
            seen.add(target.read_text())  # FileNotFoundError fails the test

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(200):
            replace_with(target, texts[n % 2])
    finally:
        stop.set()
        reader.join()
    wait_for_drops()
    assert seen <= set(texts)
    assert target.read_text() == texts[1]
    assert [p.name for p in tmp_path.iterdir()] == ["table.tsv"]  # no temp or old names


def test_the_exchange_is_used_where_linux_and_its_c_library_have_it(tmp_path):
    target = tmp_path / "t.tsv"
    target.write_text("old")
    replace_with(target, "new")
    if sys.platform.startswith("linux") and hasattr(__import__("ctypes").CDLL(None), "renameat2"):
        assert atomic._renameat2
    assert target.read_text() == "new"


def test_a_replacement_raises_the_rename_audit_event_either_way(tmp_path, way):
    # The exchange is a ctypes call, which raises no event with the paths; the guard's
    # audit hook must still see (and be able to stop) it as the rename it is.
    script = f"""
import sys
from pathlib import Path
from artifact_manager.storage import atomic
if {way == "rename"!r}:
    atomic._renameat2 = False
target = Path({str(tmp_path / "t.tsv")!r})
target.write_text("old")
temp = atomic.temp_path_for(target)
temp.write_text("new")
renames = []
sys.addaudithook(lambda event, args: renames.append(args[:2]) if event == "os.rename" else None)
atomic.publish(temp, target, replace=True, durable=False)
print(renames[0] == (str(temp), str(target)), target.read_text())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split() == ["True", "new"], done.stderr


def test_replacing_a_dir_or_a_missing_target(tmp_path, way):
    missing = tmp_path / "new.tsv"
    replace_with(missing, "x")
    assert missing.read_text() == "x"
    a_dir = tmp_path / "dir.tsv"
    (a_dir / "inner").mkdir(parents=True)
    temp = atomic.temp_path_for(a_dir)
    temp.write_text("x")
    with pytest.raises(IsADirectoryError):  # as os.replace: the dir is not swapped away
        publish(temp, a_dir, replace=True, durable=False)
    assert (a_dir / "inner").is_dir()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX + "old-")]
