"""The manifest of an artifacts dir: what was written, how big, its SHA-256, when, by whom.

The manifest is a snapshot, ``.artifacts.manifest.json``, plus a journal of the updates made
since, ``.artifacts.manifest.journal``: one JSON line per update, appended under
``.artifacts.manifest.lock`` (and flushed to disk when durable), so concurrent writers never
lose an entry and an update costs one small append instead of rewriting the whole manifest.
Reading replays the journal over the snapshot; a line torn by a crash is the update that did
not happen. When the journal grows past :data:`COMPACT_AFTER` bytes, the writer that notices
folds it into a new snapshot (temp file, rename) and empties it; replaying a journal over a
snapshot that already holds it changes nothing, so a crash between the two loses nothing.

An entry may hold a stamp instead of its SHA-256 (test mode's ``write_table``: see
:mod:`artifact_manager.storage.checksum`): it is *pending*. Validation compares the stamp
(an unchanged stamp is unchanged content), and :meth:`Manifest.settle` hashes the pending
entries whose stamp still holds and records their SHA-256, when somebody asks for it
(``get_artifact_metadata``) or the dir is kept. A pending row on disk carries
``"sha256": ""`` and ``"stamp": [ino, size, mtime_ns, ctime_ns]``.

Artifacts are the regular files below the dir, named by their relative POSIX path, except
the manager's own files (``.artifacts.*``) and versioning (``v<N>_<date>/`` and ``latest``
at the top, which carry manifests of their own).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import getpass
import json
import os
import socket
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from artifact_manager.errors import ArtifactError, ArtifactManifestError
from artifact_manager.paths import INTERNAL_PREFIX, is_versioning_name
from artifact_manager.storage.atomic import fsync_dir, publish, temp_path_for
from artifact_manager.storage.checksum import (
    Stamp,
    sha256_file,
    sha256_if_stamped,
    stamp_of,
)
from artifact_manager.storage.cleanup import TreeFile, tree_files
from artifact_manager.storage.locks import acquire

__all__ = [
    "COMPACT_AFTER",
    "JOURNAL_NAME",
    "MANIFEST_NAME",
    "Manifest",
    "ManifestEntry",
    "ValidationReport",
    "artifact_files",
    "is_artifact_name",
    "settle_journals",
    "writer_id",
]

MANIFEST_NAME = INTERNAL_PREFIX + "manifest.json"
JOURNAL_NAME = INTERNAL_PREFIX + "manifest.journal"
MANIFEST_LOCK = INTERNAL_PREFIX + "manifest.lock"
#: Journal size (bytes) from which an update folds the journal into the snapshot.
COMPACT_AFTER = 256 << 10
#: ``O_NOFOLLOW``: a symlink planted at the journal's name is refused, never followed (the
#: journal is cut back and emptied, which must never happen to a file elsewhere).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_JOURNAL_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FORMAT = 1
_LOCK_TIMEOUT = 120.0
#: Lock-free reads of a manifest being compacted meanwhile, before one read under the lock.
_READ_ATTEMPTS = 3


_writer: tuple[int, str] | None = None


class Recorder(Protocol):
    """Appends one update to a manifest whose lock is held (:meth:`Manifest.recording`)."""

    def __call__(
        self, add: Iterable[ManifestEntry] = (), remove: Iterable[str] = (), *, sync_dir: bool
    ) -> None: ...


def writer_id() -> str:
    """Who is writing: ``user@host pid N`` (looked up once per process)."""
    global _writer
    pid = os.getpid()
    if _writer is None or _writer[0] != pid:
        try:
            user = getpass.getuser()
        except Exception:  # no user name in this environment
            user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
        _writer = (pid, f"{user}@{socket.gethostname()} pid {pid}")
    return _writer[1]


@dataclass(frozen=True)
class ManifestEntry:
    """One artifact as written: :meth:`row` is what ``get_artifact_metadata()`` returns.

    ``stamp``: set (and ``sha256`` empty) while the checksum is pending (module docs).
    """

    name: str
    size: int
    sha256: str
    written_at: str
    writer: str
    stamp: Stamp | None = None

    @classmethod
    def describe(
        cls,
        name: str,
        path: Path,
        writer: str | None = None,
        *,
        digest: tuple[int, str] | None = None,
        stamp: Stamp | None = None,
    ) -> ManifestEntry:
        """The entry for the file at ``path``, to be recorded under ``name``.

        ``digest``: its (size, SHA-256) when the caller already has them; ``stamp``: the
        file's stamp, to hash it later instead of now.
        """
        if stamp is not None:
            size, sha256 = stamp[1], ""
        elif digest is not None:
            size, sha256 = digest
        else:
            size, sha256 = path.stat().st_size, sha256_file(path)
        return cls(
            name=name,
            size=size,
            sha256=sha256,
            written_at=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            writer=writer or writer_id(),
            stamp=stamp,
        )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ManifestEntry:
        """The entry of a manifest row read from disk."""
        fields = {key: value for key, value in row.items() if key != "stamp"}
        stamp = row.get("stamp")
        if stamp is None:
            return cls(**fields)
        if not (isinstance(stamp, list) and len(stamp) == 4):
            raise TypeError(f"stamp {stamp!r} is not [ino, size, mtime_ns, ctime_ns]")
        return cls(**fields, stamp=(int(stamp[0]), int(stamp[1]), int(stamp[2]), int(stamp[3])))

    @property
    def pending(self) -> bool:
        """True while the SHA-256 is not known yet (a stamp stands for it)."""
        return self.stamp is not None

    def as_row(self) -> dict[str, Any]:
        """The row written to disk (with ``stamp`` while pending)."""
        row = {
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "written_at": self.written_at,
            "writer": self.writer,
        }
        if self.stamp is not None:
            row["stamp"] = list(self.stamp)
        return row

    def row(self) -> dict[str, Any]:
        """The public row: name, size, sha256 (None while pending), written_at, writer."""
        row = self.as_row()
        if row.pop("stamp", None) is not None:
            row["sha256"] = None
        return row


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


def is_artifact_name(relative: str) -> bool:
    """True if the file at ``relative`` (a POSIX path below an artifacts dir) is an artifact:
    not one of the manager's own files, not inside a version (see the module docs)."""
    parts = relative.split("/")
    if any(part.startswith(INTERNAL_PREFIX) for part in parts):
        return False
    return not (len(parts) > 1 and is_versioning_name(parts[0]))


def artifact_files(root: Path) -> list[TreeFile]:
    """The artifacts below ``root`` (see the module docs), sorted by name."""
    return [f for f in tree_files(root) if is_artifact_name(f.name)]


class Manifest:
    """The manifest of one artifacts dir; ``durable``: flush every update to disk."""

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self.root = root
        self.path = root / MANIFEST_NAME
        self.journal = root / JOURNAL_NAME
        self.durable = durable

    def read(self) -> dict[str, ManifestEntry]:
        """The entries by name; ``{}`` when there is no manifest yet.

        Lock-free: a writer that compacts meanwhile replaces the snapshot (a rename) and then
        empties the journal, so a snapshot read before and a journal read after it would miss
        the updates folded in. The snapshot's identity is looked at again after the journal
        was read; if it changed, the read is done again (and, should that keep happening,
        once more under the lock).
        """
        for _attempt in range(_READ_ATTEMPTS):
            before = _identity(self.path)
            entries = self._read_once()
            if _identity(self.path) == before:
                return entries
        with acquire(
            self.root / MANIFEST_LOCK, timeout=_LOCK_TIMEOUT, owner="reading the manifest"
        ):
            return self._read_once()

    def _read_once(self) -> dict[str, ManifestEntry]:
        entries = self._read_snapshot()
        try:
            data = self.journal.read_bytes()
        except FileNotFoundError:
            return entries
        except OSError as error:
            raise ArtifactManifestError(self.journal, f"cannot be read ({error})") from None
        complete = data[: data.rfind(b"\n") + 1]  # a torn last line: an update that never was
        for number, line in enumerate(complete.splitlines(), start=1):
            try:
                update = json.loads(line)
                for name in update["remove"]:
                    entries.pop(name, None)
                for row in update["add"]:
                    entries[row["name"]] = ManifestEntry.from_row(row)
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise ArtifactManifestError(
                    self.journal, f"is corrupt at line {number} ({error})"
                ) from None
        return entries

    def _read_snapshot(self) -> dict[str, ManifestEntry]:
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
            return {name: ManifestEntry.from_row(row) for name, row in data["artifacts"].items()}
        except ArtifactManifestError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ArtifactManifestError(self.path, f"is corrupt ({error})") from None

    def write_snapshot(self, entries: dict[str, ManifestEntry]) -> None:
        """Replace the whole manifest with ``entries`` (a version's manifest, written once)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with acquire(
            self.root / MANIFEST_LOCK, timeout=_LOCK_TIMEOUT, owner="writing the manifest"
        ):
            self._write(entries, sync_dir=True)
            if os.path.lexists(self.journal):
                self._empty_journal()

    def _write(self, entries: dict[str, ManifestEntry], sync_dir: bool) -> None:
        data = {
            "format": _FORMAT,
            "artifacts": {name: entries[name].as_row() for name in sorted(entries)},
        }
        temp = temp_path_for(self.path)
        try:
            temp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
            publish(temp, self.path, replace=True, sync_dir=sync_dir, durable=self.durable)
        finally:
            if temp.exists():
                temp.unlink()

    def _open_journal(self, flags: int) -> int:
        try:
            return os.open(self.journal, flags, 0o644)
        except OSError as error:
            if os.path.islink(self.journal):
                raise ArtifactManifestError(
                    self.journal,
                    "is a symlink (refused: nothing was written through it), and the journal"
                    " must be a file of its own: remove the link",
                ) from None
            raise error from None

    def _empty_journal(self) -> None:
        """Empty the journal (its updates are in the snapshot now), never through a link."""
        os.close(self._open_journal(os.O_WRONLY | os.O_TRUNC | _NOFOLLOW))

    def update(
        self,
        add: Iterable[ManifestEntry] = (),
        remove: Iterable[str] = (),
        *,
        sync_dir: bool = True,
    ) -> None:
        """Add (or replace) and remove entries: one line appended to the journal, under the
        manifest lock.

        ``sync_dir=False``: the caller flushes the dir itself (the journal's entry in it, the
        first time, and a snapshot's rename when this update compacts).
        """
        with self.recording("updating the manifest") as record:
            record(add, remove, sync_dir=sync_dir)

    @contextlib.contextmanager
    def recording(self, owner: str) -> Iterator[Recorder]:
        """Hold the manifest lock and yield what appends an update (as :meth:`update` does).

        For a change of a file and its entry that must not interleave with another writer's:
        publishing an artifact and recording its checksum under one lock, the manifest never
        holds the other writer's checksum for the file that won.
        """
        if not os.path.isdir(self.root):  # one stat when it exists (most updates)
            self.root.mkdir(parents=True, exist_ok=True)
        with acquire(self.root / MANIFEST_LOCK, timeout=_LOCK_TIMEOUT, owner=owner):
            yield self._append

    def _append(
        self, add: Iterable[ManifestEntry] = (), remove: Iterable[str] = (), *, sync_dir: bool
    ) -> None:
        """Append one update to the journal (the caller holds the manifest lock)."""
        add = list(add)
        line = json.dumps(
            {"add": [e.as_row() for e in add], "remove": list(remove)}, separators=(",", ":")
        )
        fd = self._open_journal(_JOURNAL_FLAGS)
        try:
            end = os.fstat(fd).st_size
            created = end == 0
            if end and os.pread(fd, 1, end - 1) != b"\n":
                _drop_torn_line(fd, end)  # a writer was killed mid-append
                end = os.fstat(fd).st_size
            remedy = _remedy_for([e.name for e in add])
            _append_line(fd, (line + "\n").encode("utf-8"), end, self.journal, remedy)
            if self.durable:
                getattr(os, "fdatasync", os.fsync)(fd)
            size = os.lseek(fd, 0, os.SEEK_CUR)
        finally:
            os.close(fd)
        if size >= COMPACT_AFTER:
            self._write(self._read_once(), sync_dir=False)
            self._empty_journal()
            created = True
        if created and sync_dir and self.durable:
            fsync_dir(self.root)

    def settle(self, names: Iterable[str] | None = None) -> dict[str, ManifestEntry]:
        """Hash the pending entries (all, or those in ``names``) whose files still carry
        their stamp, record their SHA-256, and return all entries.

        An entry whose file was written or replaced since stays pending:
        :meth:`validate` reports it modified.
        """
        with acquire(
            self.root / MANIFEST_LOCK, timeout=_LOCK_TIMEOUT, owner="settling the manifest"
        ):
            entries = self._read_once()
            wanted = entries if names is None else {n: entries[n] for n in names if n in entries}
            settled = []
            for name, entry in wanted.items():
                if entry.stamp is None:
                    continue
                digest = sha256_if_stamped(self.root / name, entry.stamp)
                if digest is not None:
                    settled.append(dataclasses.replace(entry, sha256=digest, stamp=None))
            if settled:
                self._append(settled, (), sync_dir=True)
                entries.update((e.name, e) for e in settled)
        return entries

    def validate(self) -> ValidationReport:
        """Compare the manifest with the files on disk (sizes first, then SHA-256, or the
        stamp of a pending entry)."""
        entries = self.read()
        on_disk = {f.name: f for f in artifact_files(self.root)} if self.root.is_dir() else {}
        missing = sorted(set(entries) - set(on_disk))
        unlisted = sorted(set(on_disk) - set(entries))
        modified = sorted(
            name
            for name in set(entries) & set(on_disk)
            if _modified(entries[name], on_disk[name].path, on_disk[name].size)
        )
        return ValidationReport(missing=missing, modified=modified, unlisted=unlisted)


def settle_journals(journals: Iterable[Path]) -> bool:
    """Settle the manifests whose journals these are (a dir being kept: its manifests then
    hold every SHA-256, so they validate after a copy too). True if any entry was settled.

    A manifest that cannot be read or locked is left as it is: keeping the dir comes first.
    """
    changed = False
    for journal in journals:
        manifest = Manifest(journal.parent, durable=False)
        try:
            if any(entry.pending for entry in manifest.read().values()):
                manifest.settle()
                changed = True
        except (OSError, ArtifactError):
            continue
    return changed


def _identity(path: Path) -> tuple[int, int, int] | None:
    """What tells one snapshot file from the next: (inode, size, mtime_ns); None if none."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


def _modified(entry: ManifestEntry, path: Path, size: int) -> bool:
    if size != entry.size:
        return True
    if entry.stamp is not None:
        try:
            return stamp_of(os.stat(path)) != entry.stamp
        except OSError:
            return True
    return sha256_file(path) != entry.sha256


def _remedy_for(names: list[str]) -> str:
    """What to do when an update adding ``names`` could not be recorded. The files are on
    disk already (a production write that is done again would find its file there and raise
    ``ArtifactExistsError``), so the remedy is to record them."""
    if not names:
        return "free space (or fix the error) and do it again"
    if len(names) == 1:
        return (
            "the file is on disk: free space (or fix the error), then add it to the manifest"
            f" with record_artifact({names[0]!r})"
        )
    listed = ", ".join(repr(name) for name in names[:3]) + (", ..." if len(names) > 3 else "")
    return (
        "the files are on disk: free space (or fix the error), then add each to the manifest"
        f" with record_artifact(name): {listed}"
    )


def _append_line(fd: int, data: bytes, end: int, journal: Path, remedy: str) -> None:
    """Append ``data`` (one whole line) at ``end``; on a short write (a full disk) cut the
    journal back to ``end`` and raise, so the update is neither half-recorded nor silently
    lost. ``remedy``: what the error tells the caller to do."""
    try:
        written = os.write(fd, data)  # one write: one whole line
    except OSError as error:
        raise OSError(
            error.errno,
            f"{error.strerror}: the manifest update was not recorded in {str(journal)!r}; {remedy}",
        ) from error
    if written != len(data):
        os.ftruncate(fd, end)
        raise OSError(
            errno.ENOSPC,
            f"only {written} of {len(data)} bytes of a manifest update went into"
            f" {str(journal)!r} (disk full?); it was not recorded: {remedy}",
        )


def _drop_torn_line(fd: int, end: int) -> None:
    """Cut a journal back to its last complete line (the caller holds the manifest lock)."""
    data = os.pread(fd, end, 0)
    os.ftruncate(fd, data.rfind(b"\n") + 1)
