"""Replacing a file atomically: readers never miss it nor see it torn, nothing is left
behind, and the guard sees every replacement as a rename."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from artifact_manager.storage import atomic
from artifact_manager.storage.atomic import RETIRE_FROM, publish, wait_for_drops


def replace_with(target, text):
    temp = atomic.temp_path_for(target)
    temp.write_text(text)
    publish(temp, target, replace=True, durable=False)
    assert not temp.exists()


@pytest.mark.parametrize("size", [10, RETIRE_FROM + 1])  # freed now / in the background
def test_a_reader_never_finds_the_target_missing_nor_torn(tmp_path, size):
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
    assert [p.name for p in tmp_path.iterdir()] == ["table.tsv"]  # no temp or retired names


def test_a_replacement_raises_the_rename_audit_event(tmp_path):
    # What the guard's audit hook checks (and stops in a protected dir).
    script = f"""
import sys
from pathlib import Path
from artifact_manager.storage import atomic
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
