"""Symlink-safe removal and inspection of dir trees.

Nothing here follows a symlink: a planted link is removed as a link, never its target.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TreeFile", "remove_tree", "tree_files"]


def remove_tree(path: Path) -> bool:
    """Remove ``path`` (dir, file or symlink) without following symlinks.

    Returns True if something was removed. On Linux ``shutil.rmtree`` works on dir file
    descriptors with ``O_NOFOLLOW`` (``rmtree.avoids_symlink_attacks``), so a symlink planted
    anywhere in the tree, or swapped in while it runs, is unlinked, not followed.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)
    return True


@dataclass(frozen=True)
class TreeFile:
    """A regular file below a root: its relative POSIX name, size and full path."""

    name: str
    size: int
    path: Path


def tree_files(root: Path) -> list[TreeFile]:
    """Regular files below ``root`` (symlinks neither listed nor followed), sorted by name."""
    found: list[TreeFile] = []
    for dirpath, _dirnames, filenames in os.walk(root, followlinks=False):
        for filename in filenames:
            full = Path(dirpath, filename)
            try:
                info = os.lstat(full)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                found.append(TreeFile(full.relative_to(root).as_posix(), info.st_size, full))
    return sorted(found, key=lambda f: f.name)
