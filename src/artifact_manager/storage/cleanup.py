"""Symlink-safe removal and inspection of dir trees.

Nothing here follows a symlink: a planted link is removed as a link, never its target.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from artifact_manager.paths import refuse_linked_tests_root

__all__ = ["RemovalErrors", "TreeFile", "old_dirs", "remove_tree", "tree_files"]


def remove_tree(path: Path) -> bool:
    """Remove ``path`` (dir, file or symlink) without following symlinks.

    Returns True if something was removed. On Linux ``shutil.rmtree`` works on dir file
    descriptors with ``O_NOFOLLOW`` (``rmtree.avoids_symlink_attacks``), so a symlink planted
    anywhere in the tree, or swapped in while it runs, is unlinked, not followed.

    A read-only dir inside the tree (a published test-mode version is ``0o555``) does not
    stop it: on a :class:`PermissionError` the containing dir is given owner
    read/write/search permission and the step retried, as pytest's own ``rm_rf`` does. Only a
    real dir inside ``path`` (each step checked with ``lstat``: never through a symlink) is
    ever changed; nothing outside the tree.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(mode):
        _rmtree(os.path.abspath(path))
    else:
        os.unlink(path)
    return True


def _rmtree(root: str) -> None:
    def on_error(func: Callable[..., Any], failed: str, error: BaseException) -> None:
        if not isinstance(error, PermissionError):
            raise error
        if func in (os.rmdir, os.unlink, os.remove):
            if not _open_up(root, os.path.dirname(failed)):
                raise error
            func(failed)
        elif func in (os.open, os.scandir, os.listdir) and failed != root:
            if not _open_up(root, failed):  # a dir that cannot be read: open it, then it all
                raise error
            _rmtree(failed)
        else:
            raise error

    if sys.version_info >= (3, 12):
        shutil.rmtree(root, onexc=on_error)
    else:
        shutil.rmtree(root, onerror=lambda func, failed, info: on_error(func, failed, info[1]))


def _open_up(root: str, target: str) -> bool:
    """Give ``target`` owner rwx if it is ``root`` or a real dir inside it, reached from
    ``root`` through real dirs only (``lstat`` at each step); False (nothing changed) if not."""
    target = os.path.abspath(target)
    if os.path.commonpath([root, target]) != root:
        return False  # outside the tree being removed: never touched
    step = root
    parts = os.path.relpath(target, root).split(os.sep) if target != root else []
    for part in ["", *parts]:
        step = os.path.join(step, part) if part else step
        try:
            info = os.lstat(step)
        except OSError:
            return False
        if not stat.S_ISDIR(info.st_mode):
            return False  # a symlink (or a file) on the way: not followed
    os.chmod(target, stat.S_IMODE(info.st_mode) | stat.S_IRWXU)
    return True


class RemovalErrors:
    """Where the errors of a run of removals go: to ``on_error(path, error)`` as they
    happen, or (without one) the first is raised by :meth:`raise_first` once the run is
    done, so one dir that cannot be removed never stops the others."""

    def __init__(self, on_error: Callable[[Path, OSError], None] | None) -> None:
        self._on_error = on_error
        self._first: OSError | None = None

    def remove(self, remove: Callable[[Path], object], path: Path) -> bool:
        """``remove(path)``; False (the error noted) if it raised an :class:`OSError`."""
        try:
            remove(path)
        except OSError as error:
            if self._on_error is not None:
                self._on_error(path, error)
            elif self._first is None:
                self._first = error
            return False
        return True

    def raise_first(self) -> None:
        if self._first is not None:
            raise self._first


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
