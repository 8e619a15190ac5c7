"""Symlink-safe removal and inspection of dir trees.

Nothing here follows a symlink: a planted link is removed as a link, never its target.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from artifact_manager.paths import refuse_linked_tests_root

__all__ = ["TreeFile", "old_dirs", "remove_tree", "tree_files"]


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


class TreeFile(NamedTuple):
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


def old_dirs(parent: Path, keep_recent: int, *, skip: Callable[[str], bool]) -> list[str]:
    """Names of all but the ``keep_recent`` newest real dirs directly in ``parent``.

    Newest by modification time; oldest first. Symlinks, files and names for which ``skip``
    is true are neither counted nor returned.

    Raises:
        ArtifactPathError: if ``parent`` itself is a symlink (it is not followed).
    """
    refuse_linked_tests_root(parent)
    if not parent.is_dir():
        return []
    dirs = []
    for entry in os.scandir(parent):
        if skip(entry.name) or not entry.is_dir(follow_symlinks=False):
            continue
        dirs.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.name))
    dirs.sort(reverse=True)
    return [name for _mtime, name in reversed(dirs[keep_recent:])]
