"""Atomic file publication: write to a temp file beside the target, fsync, rename, fsync dir.

A crash at any moment leaves either the old complete file or the new complete file under the
target's name, never a torn one; at worst a temp file (``.artifacts.tmp-*``) is left behind,
which no listing or validation counts as an artifact.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from artifact_manager.layout import INTERNAL_PREFIX

__all__ = ["TEMP_PREFIX", "fsync_dir", "publish", "temp_path_for", "temp_sibling"]

TEMP_PREFIX = INTERNAL_PREFIX + "tmp-"


def temp_path_for(target: Path) -> Path:
    """A fresh temp path in ``target``'s dir, keeping its suffix (polars picks formats by it)."""
    return target.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{target.name}")


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (no-op where dirs cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish(temp: Path, target: Path, *, replace: bool) -> bool:
    """Move complete file ``temp`` to ``target``, durably.

    With ``replace=False`` the move happens only if ``target`` does not exist (atomically:
    a hard link, then the temp name is dropped); returns False and leaves ``temp`` in place
    when it does. With ``replace=True`` an existing target is replaced atomically.
    """
    fsync_file(temp)
    if replace:
        os.replace(temp, target)
    else:
        try:
            os.link(temp, target)
        except FileExistsError:
            return False
        os.unlink(temp)
    fsync_dir(target.parent)
    return True


@contextlib.contextmanager
def temp_sibling(target: Path) -> Iterator[Path]:
    """A temp path beside ``target``; whatever is left at it is removed on exit."""
    temp = temp_path_for(target)
    try:
        yield temp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
