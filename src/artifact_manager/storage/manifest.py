"""The manifest of an artifacts dir: what was written, how big, its SHA-256, when, by whom.

The manifest is ``.artifacts.manifest.json`` in the dir. Every update is a read-modify-write
under ``.artifacts.manifest.lock`` and lands atomically (temp file, fsync, rename), so
concurrent writers never lose an entry and a crash leaves the old or the new manifest.

Artifacts are the regular files below the dir, named by their relative POSIX path, except
the manager's own files (``.artifacts.*``) and versioning (``v<N>_<date>/`` and ``latest``
at the top, which carry manifests of their own).
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from artifact_manager.errors import ArtifactManifestError
from artifact_manager.layout import INTERNAL_PREFIX, is_versioning_name
from artifact_manager.storage.atomic import publish, temp_path_for
from artifact_manager.storage.checksum import sha256_file
from artifact_manager.storage.cleanup import TreeFile, tree_files
from artifact_manager.storage.locks import acquire

__all__ = [
    "MANIFEST_NAME",
    "Manifest",
    "ManifestEntry",
    "ValidationReport",
    "artifact_files",
    "writer_id",
]

MANIFEST_NAME = INTERNAL_PREFIX + "manifest.json"
MANIFEST_LOCK = INTERNAL_PREFIX + "manifest.lock"
_FORMAT = 1
_LOCK_TIMEOUT = 120.0


def writer_id() -> str:
    """Who is writing: ``user@host pid N``."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


@dataclass(frozen=True)
class ManifestEntry:
    """One artifact as written: the row ``get_artifact_metadata()`` returns."""

    name: str
    size: int
    sha256: str
    written_at: str
    writer: str

    @classmethod
    def describe(
        cls,
        name: str,
        path: Path,
        writer: str | None = None,
        *,
        digest: tuple[int, str] | None = None,
    ) -> ManifestEntry:
        """The entry for the file at ``path``, to be recorded under ``name``.

        ``digest``: its (size, SHA-256) when the caller already has them.
        """
        size, sha256 = digest if digest is not None else (path.stat().st_size, sha256_file(path))
        return cls(
            name=name,
            size=size,
            sha256=sha256,
            written_at=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            writer=writer or writer_id(),
        )


@dataclass(frozen=True)
class ValidationReport:
    """What ``validate_artifacts()`` found. ``report.missing`` and ``report["missing"]`` both
    work; ``ok`` is True when all three lists are empty."""

    missing: list[str]
    modified: list[str]
    unlisted: list[str]

    @property
    def ok(self) -> bool:
        return not (self.missing or self.modified or self.unlisted)

    def __getitem__(self, key: str) -> Any:
        if key not in ("missing", "modified", "unlisted", "ok"):
            raise KeyError(key)
        return getattr(self, key)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _is_artifact(relative: str) -> bool:
    parts = relative.split("/")
    if any(part.startswith(INTERNAL_PREFIX) for part in parts):
        return False
    return not (len(parts) > 1 and is_versioning_name(parts[0]))


def artifact_files(root: Path) -> list[TreeFile]:
    """The artifacts below ``root`` (see the module docs), sorted by name."""
    return [f for f in tree_files(root) if _is_artifact(f.name)]


class Manifest:
    """The manifest of one artifacts dir; ``durable``: flush every update to disk."""

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self.root = root
        self.path = root / MANIFEST_NAME
        self.durable = durable

    def read(self) -> dict[str, ManifestEntry]:
        """The entries by name; ``{}`` when there is no manifest yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise ArtifactManifestError(self.path, f"cannot be read ({error})") from None
        try:
            data = json.loads(text)
            if data.get("format") != _FORMAT:
                raise ArtifactManifestError(
                    self.path, f"has format {data.get('format')!r}, not {_FORMAT}"
                )
            return {name: ManifestEntry(**row) for name, row in data["artifacts"].items()}
        except ArtifactManifestError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ArtifactManifestError(self.path, f"is corrupt ({error})") from None

    def _write(self, entries: dict[str, ManifestEntry], sync_dir: bool) -> None:
        data = {
            "format": _FORMAT,
            "artifacts": {name: asdict(entries[name]) for name in sorted(entries)},
        }
        temp = temp_path_for(self.path)
        try:
            temp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
            publish(temp, self.path, replace=True, sync_dir=sync_dir, durable=self.durable)
        finally:
            if temp.exists():
                temp.unlink()

    def update(
        self,
        add: Iterable[ManifestEntry] = (),
        remove: Iterable[str] = (),
        *,
        sync_dir: bool = True,
    ) -> None:
        """Add (or replace) and remove entries, under the manifest lock.

        ``sync_dir=False``: the caller flushes the dir itself after its own renames.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with acquire(
            self.root / MANIFEST_LOCK, timeout=_LOCK_TIMEOUT, owner="updating the manifest"
        ):
            entries = self.read()
            for name in remove:
                entries.pop(name, None)
            for entry in add:
                entries[entry.name] = entry
            self._write(entries, sync_dir)

    def validate(self) -> ValidationReport:
        """Compare the manifest with the files on disk (sizes first, then SHA-256)."""
        entries = self.read()
        on_disk = {f.name: f for f in artifact_files(self.root)} if self.root.is_dir() else {}
        missing = sorted(set(entries) - set(on_disk))
        unlisted = sorted(set(on_disk) - set(entries))
        modified = sorted(
            name
            for name in set(entries) & set(on_disk)
            if on_disk[name].size != entries[name].size
            or sha256_file(on_disk[name].path) != entries[name].sha256
        )
        return ValidationReport(missing=missing, modified=modified, unlisted=unlisted)
