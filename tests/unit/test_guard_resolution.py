"""The guard's path resolution: ``realpath(parent) / name``, with a memory that must never
answer differently from ``os.path.realpath`` on the file system as it is at a phase start."""

from __future__ import annotations

import itertools
import os
import shutil

import pytest

from artifact_manager.guard.resolution import Resolver, real_entry


def expected(path: str) -> str:
    """What the kernel writes to, for an entry operation on ``path``."""
    path = os.path.join(os.getcwd(), path)
    head, name = os.path.split(path)
    if name in ("", ".", ".."):
        return os.path.realpath(path)
    if ".." not in path.split(os.sep):
        head = os.path.normpath(head)
    return os.path.join(os.path.realpath(head), name)


@pytest.fixture
def tree(tmp_path):
    """Dirs, a file, symlinks (absolute, relative, chained, dangling, looping)."""
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "prod" / "deep").mkdir(parents=True)
    (tmp_path / "a" / "file").write_text("x")
    os.symlink(tmp_path / "prod", tmp_path / "a" / "to_prod")
    os.symlink("../../prod/deep", tmp_path / "a" / "b" / "rel")
    os.symlink(tmp_path / "a" / "to_prod", tmp_path / "a" / "chain")
    os.symlink(tmp_path / "nowhere", tmp_path / "a" / "dangling")
    os.symlink(tmp_path / "a" / "loop", tmp_path / "a" / "loop")
    return tmp_path


def paths(root) -> list[str]:
    names = ["b", "c", "to_prod", "rel", "chain", "dangling", "loop", "file", "new", "deep", "."]
    found = [str(root / "a" / "x"), str(root) + "//a/./b/x", str(root / "a" / "b") + "/"]
    for first, second in itertools.product(names, repeat=2):
        found.append(str(root / "a" / first / second / "x"))
        found.append(str(root / "a" / "b" / first / second))
    found += [str(root / "a" / "b" / "rel" / ".." / "x"), str(root / "a" / "to_prod" / "..")]
    return found


def test_the_memory_answers_as_realpath_does(tree):
    resolver = Resolver()
    for _ in range(2):  # the second round answers from memory
        for path in paths(tree):
            assert resolver.entry(path) == expected(path) == real_entry(path), path
        resolver.new_phase()


def test_relative_paths_resolve_from_the_working_dir(tree, monkeypatch):
    monkeypatch.chdir(tree / "a")
    resolver = Resolver()
    assert resolver.entry("to_prod/x") == str(tree / "prod" / "x")
    assert resolver.entry("b/rel/../y") == str(tree / "prod" / "y")


@pytest.mark.parametrize("swap", ["dir_to_link", "link_to_dir", "moved_and_recreated"])
def test_a_change_made_unseen_is_noticed_in_the_next_phase(tree, swap):
    resolver = Resolver()
    b = tree / "a" / "b"
    link = tree / "a" / "to_prod"
    for path in paths(tree):
        resolver.entry(path)
    if swap == "dir_to_link":
        shutil.rmtree(b)
        os.symlink(tree / "prod", b)
    elif swap == "link_to_dir":
        link.unlink()
        (link / "c").mkdir(parents=True)
    else:
        b.rename(tree / "b_old")
        (b / "c").mkdir(parents=True)
    resolver.new_phase()
    for path in paths(tree):
        assert resolver.entry(path) == expected(path), path


def test_forget_drops_everything(tree):
    resolver = Resolver()
    b = tree / "a" / "b"
    assert resolver.entry(str(b / "c" / "x")) == str(b / "c" / "x")
    shutil.rmtree(b)
    os.symlink(tree / "prod", b)
    resolver.forget()  # what the audit hook does before a rename, remove, symlink, ...
    assert resolver.entry(str(b / "deep" / "x")) == str(tree / "prod" / "deep" / "x")


def test_a_missing_name_is_looked_at_again_in_the_same_phase(tree):
    """A name found missing is not remembered: a symlink made there later, by a route the
    audit hook does not see (native code, a hard link of a symlink), is followed."""
    resolver = Resolver()
    d = tree / "a" / "later"
    assert resolver.entry(str(d / "x")) == str(d / "x")
    os.symlink(tree / "prod", d)  # no forget(): nothing told the resolver
    assert resolver.entry(str(d / "x")) == str(tree / "prod" / "x")


def test_the_root_and_its_children(tree):
    resolver = Resolver()
    assert resolver.entry("/") == "/"
    assert resolver.entry("/x") == "/x"
    assert resolver.entry("//x") == "/x"
