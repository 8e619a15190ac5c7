"""Versions: immutable ``v<N>_<YYYYMMDD>`` snapshots of a dir, and an atomic ``latest``.

``publish(root)`` copies the artifacts of ``root`` (not earlier versions, not the manager's
own files) into a staging dir, writes its manifest, makes it read-only, renames it to the
next free ``v<N>_<date>`` and then swaps ``latest`` (a relative symlink) by renaming a new
link over the old one. Readers see the old ``latest`` or the new one, never none and never a
half-made version. Publishers take ``.artifacts.versions.lock``, so two at once get distinct
N.
"""

from __future__ import annotations

import os
import shutil
import stat
from datetime import date
from pathlib import Path

from artifact_manager.errors import ArtifactPathError
from artifact_manager.paths import INTERNAL_PREFIX, LATEST, version_number
from artifact_manager.storage.atomic import fsync_dir, temp_path_for
from artifact_manager.storage.cleanup import remove_tree
from artifact_manager.storage.locks import acquire
from artifact_manager.storage.manifest import Manifest, ManifestEntry, artifact_files, writer_id

__all__ = ["list_versions", "publish", "resolve", "resolve_pointer"]

VERSIONS_LOCK = INTERNAL_PREFIX + "versions.lock"
_LOCK_TIMEOUT = 600.0
_READ_ONLY_FILE = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
_READ_ONLY_DIR = _READ_ONLY_FILE | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


def list_versions(root: Path) -> list[str]:
    """Version dir names in ``root``, oldest (lowest N) first."""
    if not root.is_dir():
        return []
    found = []
    for entry in os.scandir(root):
        number = version_number(entry.name)
        if number is not None and entry.is_dir(follow_symlinks=False):
            found.append((number, entry.name))
    return [name for _, name in sorted(found)]


def _make_read_only(root: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        for filename in filenames:
            os.chmod(os.path.join(dirpath, filename), _READ_ONLY_FILE)
        os.chmod(dirpath, _READ_ONLY_DIR)


def _not_a_pointer(latest: Path) -> ArtifactPathError | None:
    """The error for a ``latest`` that exists but is not a symlink; None if it is one or absent."""
    try:
        mode = os.lstat(latest).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return None
    what = "a real dir" if stat.S_ISDIR(mode) else "a file"
    return ArtifactPathError(
        str(latest),
        f"is {what}, not a version pointer",
        "move it aside; 'latest' must be the symlink publish_version() manages",
    )


def _swap_latest(root: Path, target: str) -> None:
    latest = root / LATEST
    error = _not_a_pointer(latest)
    if error is not None:  # checked before publishing too; this is in case one appeared since
        raise error
    link = temp_path_for(root / LATEST)
    os.symlink(target, link, target_is_directory=True)
    try:
        os.replace(link, latest)
    except BaseException:
        link.unlink()
        raise
    fsync_dir(root)


def publish(root: Path, *, today: date | None = None) -> str:
    """Snapshot the artifacts of ``root`` as the next version; return its name."""
    files = artifact_files(root) if root.is_dir() else []
    if not files:
        raise ArtifactPathError(
            str(root), "has no artifacts to publish", "write artifacts before publishing"
        )
    stamp = (today or date.today()).strftime("%Y%m%d")
    with acquire(root / VERSIONS_LOCK, timeout=_LOCK_TIMEOUT, owner="publishing a version"):
        error = _not_a_pointer(root / LATEST)
        if error is not None:  # refused before a version dir is made: nothing is left behind
            raise error
        numbers = [version_number(name) or 0 for name in list_versions(root)]
        name = f"v{max(numbers, default=0) + 1}_{stamp}"
        staging = temp_path_for(root / name)
        try:
            writer = writer_id()
            entries = []
            for item in artifact_files(root):
                copy = staging / item.name
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(item.path, copy)
                entries.append(ManifestEntry.describe(item.name, copy, writer))
            Manifest(staging).write_snapshot({e.name: e for e in entries})
            _make_read_only(staging)
            os.rename(staging, root / name)
        except BaseException:
            _writable_again(staging)
            remove_tree(staging)
            raise
        fsync_dir(root)
        _swap_latest(root, name)
    return name


def _writable_again(root: Path) -> None:
    if not root.exists():
        return
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for filename in filenames:
            os.chmod(os.path.join(dirpath, filename), 0o644)


def resolve_pointer(root: Path, name: str) -> Path | None:
    """If ``root/name`` is a symlink leading to a dir in ``root``, that dir; None if no symlink.

    The link may be spelt as ``publish_version`` makes it (``v2_20260101``) or as people make
    one by hand (``./v1.0``, ``"$PWD/v1.0"``, a link to such a link): what counts is where it
    leads, a real dir directly in ``root``.

    Raises:
        ArtifactPathError: if the link leads anywhere but a dir directly in ``root``.
    """
    link = root / name
    if not link.is_symlink():
        return None
    target = os.readlink(link)
    leads_to = os.path.realpath(link)
    if os.path.dirname(leads_to) != os.path.realpath(root) or not _real_dir(Path(leads_to)):
        raise ArtifactPathError(
            str(link),
            f"points to {target!r}, not a version dir beside it",
            "re-publish, or point it at a dir in the same folder",
        )
    return root / os.path.basename(leads_to)


def _real_dir(path: Path) -> bool:
    """A dir, and not through a symlink (a planted link never counts as a version)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def resolve(root: Path, version: str = LATEST) -> Path:
    """The dir of ``version`` (``"latest"`` or a ``v<N>_<date>`` name) in ``root``."""
    if version == LATEST:
        target = resolve_pointer(root, LATEST)
        if target is None:
            error = _not_a_pointer(root / LATEST)
            if error is not None:
                raise error
            raise ArtifactPathError(str(root / LATEST), "does not exist", "publish a version first")
        return target
    if version_number(version) is not None and os.path.islink(root / version):
        raise ArtifactPathError(
            str(root / version),
            "is a symlink, not a version dir (it may lead outside the versions dir)",
            "remove the link; versions are dirs made by publish_version",
        )
    if version_number(version) is None or not _real_dir(root / version):
        known = ", ".join(list_versions(root)) or "none"
        raise ArtifactPathError(
            version, "is not a published version", f"use 'latest' or one of: {known}"
        )
    return root / version
