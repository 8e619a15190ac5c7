"""Replacing a file atomically: readers never miss it nor see it torn, nothing is left
behind, and the guard sees every replacement as a rename."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from artifact_manager.paths import DEFAULT_NAME_MAX, fitted_name
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


# A name at the file system's limit (255 bytes on Linux): ASCII, 2-byte and 4-byte characters.
LONGEST_NAMES = [
    pytest.param("a" * 251 + ".tsv", id="ascii"),
    pytest.param("é" * 125 + ".tsv", id="two-byte"),  # 129 characters, 254 bytes
    pytest.param("a" * 3 + "🧬" * 62 + ".tsv", id="four-byte"),  # 255 bytes
]


@pytest.mark.parametrize("name", LONGEST_NAMES)
@pytest.mark.parametrize("size", [10, RETIRE_FROM + 1])  # freed now / in the background
def test_a_temp_name_fits_wherever_the_target_name_fits(tmp_path, name, size):
    target = tmp_path / name
    target.write_text("old")
    temp = atomic.temp_path_for(target)
    assert len(os.fsencode(temp.name)) <= os.pathconf(tmp_path, "PC_NAME_MAX")
    assert temp.name.startswith(atomic.TEMP_PREFIX)  # still the manager's, never an artifact
    assert temp.suffix == ".tsv"  # polars picks the format by it
    temp.write_text("n" * size)
    publish(temp, target, replace=True, durable=False)
    wait_for_drops()
    assert target.read_text() == "n" * size
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temp or retired names


def test_shortened_temp_names_still_differ_per_target():
    a, b = (fitted_name("h-", "x" * 300 + end) for end in ("1.tsv", "2.tsv"))
    c = fitted_name("h-", "y" + "x" * 299 + "1.tsv")  # the same end as a
    assert len({a, b, c}) == 3
    assert all(len(n) == DEFAULT_NAME_MAX and n.startswith("h-") for n in (a, b, c))
    assert fitted_name("h-", "short.tsv", ".lock") == "h-short.tsv.lock"  # fits: unchanged


# -- replace_text: the reports -------------------------------------------------------------


def test_two_writers_of_one_report_never_fail_nor_tear_it(tmp_path):
    # Two sessions writing the same --artifacts-html path at their end, here two threads.
    target = tmp_path / "report.html"
    texts = [c * 1_000_000 for c in "ab"]
    errors = []

    def write(text):
        for _ in range(30):
            try:
                atomic.replace_text(target, text)
            except OSError as error:
                errors.append(error)

    writers = [threading.Thread(target=write, args=(t,)) for t in texts]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert errors == []
    assert target.read_text() in texts
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_report_leaves_another_writers_temp_file_alone(tmp_path):
    # Each write has a temp file of its own: another session's (here the first release's
    # fixed name) is neither overwritten nor renamed over the report.
    target = tmp_path / "report.html"
    (tmp_path / "report.html.tmp").write_text("another session is writing this")
    atomic.replace_text(target, "mine")
    assert target.read_text() == "mine"
    assert (tmp_path / "report.html.tmp").read_text() == "another session is writing this"


def test_a_report_that_cannot_be_written_leaves_no_temp_file(tmp_path):
    target = tmp_path / "report.html"
    target.mkdir()  # a dir where the report should go: the rename fails
    with pytest.raises(IsADirectoryError):
        atomic.replace_text(target, "page")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    with pytest.raises(UnicodeEncodeError):  # a text that is not valid Unicode: nothing made
        atomic.replace_text(tmp_path / "other.html", "caf\udce9")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
