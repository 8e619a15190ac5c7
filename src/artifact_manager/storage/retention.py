"""Which test dirs stay: keep markers, live sessions, and reaping what nobody meant to leave.

Pure file-system rules, no pytest (the plugin's :mod:`artifact_manager.plugin.dirs` applies
them). In a tests root ``E/tests/``:

- A *kept* dir carries :data:`KEEP_MARKER`, a small JSON file: which session kept it (id and
  start time), when, under which policy, the test's outcome and node id, and the keeping
  process. A dir without one was left behind without meaning to (a crashed xdist worker, a
  killed or interrupted session) once no live session holds it.
- A shared dir (``artifact_manager_factory("name")``) carries :data:`SESSION_MARKER`, the id
  of the session that prepared it.
- A session is *live* in a tests root while one of its processes holds a shared lock on
  ``.artifacts.locks/session-<id>.lock`` there (:func:`hold_session`); the OS drops it when
  the process dies, so a killed session is never mistaken for a live one.

:func:`reap` removes, through a ``discard`` function (rename away, delete later), every dir
in a tests root that is neither held (its per-test lock), nor a live session's, nor kept by one
of the last ``retention_count`` sessions. It never follows a symlink: entries that are not
real dirs are left alone.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from artifact_manager.errors import ArtifactLockTimeout
from artifact_manager.paths import INTERNAL_PREFIX, is_internal_name, lock_path_for
from artifact_manager.sessions import DEFAULT_RETENTION_COUNT, SessionInfo
from artifact_manager.storage.locks import HeldLock, acquire

if sys.platform != "win32":
    import fcntl

__all__ = [
    "DEFAULT_RETENTION_COUNT",
    "KEEP_MARKER",
    "SESSION_MARKER",
    "KeepMarker",
    "SessionInfo",
    "hold_session",
    "read_shared_session",
    "reap",
    "session_is_live",
    "session_lock_path",
    "write_shared_session",
]

#: The marker of a kept dir.
KEEP_MARKER = INTERNAL_PREFIX + "kept.json"
#: The marker of a shared dir: the id of the session that prepared it.
SESSION_MARKER = INTERNAL_PREFIX + "session"
_LOCKS_DIRNAME = INTERNAL_PREFIX + "locks"
_SESSION_LOCK_PREFIX = "session-"


class KeepMarker(NamedTuple):
    """What :data:`KEEP_MARKER` says about a kept dir."""

    session_id: str
    session_started: float
    kept_at: float
    #: The keep policy that kept it: ``failed`` or ``all``.
    policy: str
    #: ``passed``, ``failed``, ``skipped``, ``interrupted`` or ``crashed``; ``shared`` for a
    #: shared dir.
    outcome: str
    nodeid: str
    pid: int
    host: str

    @classmethod
    def now(cls, session: SessionInfo, policy: str, outcome: str, nodeid: str) -> KeepMarker:
        return cls(
            session.id,
            session.started,
            time.time(),
            policy,
            outcome,
            nodeid,
            os.getpid(),
            socket.gethostname(),
        )

    def write(self, root: Path) -> None:
        """Write the marker into ``root`` (which exists), replacing an older one."""
        path = root / KEEP_MARKER
        tmp = root / (KEEP_MARKER + ".tmp")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)  # whatever is there, even a planted symlink, is replaced, not followed
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        with os.fdopen(os.open(tmp, flags, 0o644), "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self._asdict(), indent=1) + "\n")
        os.replace(tmp, path)  # replaces a symlink at ``path`` itself, never its target

    @classmethod
    def read(cls, root: Path) -> KeepMarker | None:
        """The marker in ``root``; None if there is none or it cannot be read (then the dir
        counts as not kept). A marker that is a symlink is not followed."""
        try:
            fd = os.open(root / KEEP_MARKER, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            with os.fdopen(fd, "rb") as handle:
                raw = json.loads(handle.read(65536))
            return cls(**{k: raw[k] for k in cls._fields})
        except (OSError, ValueError, KeyError, TypeError):
            return None


def write_shared_session(root: Path, session_id: str) -> None:
    """Mark shared dir ``root`` (just made, empty) as prepared by ``session_id``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(root / SESSION_MARKER, flags, 0o644), "w", encoding="utf-8") as handle:
        handle.write(session_id + "\n")


def read_shared_session(root: Path) -> str | None:
    """The session id in a shared dir's :data:`SESSION_MARKER`, or None (not a shared dir)."""
    try:
        fd = os.open(root / SESSION_MARKER, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read(256).decode("utf-8", "replace").strip() or None


def session_lock_path(tests_root: Path, session_id: str) -> Path:
    """The lock that session ``session_id`` holds in ``tests_root`` while it runs."""
    return tests_root / _LOCKS_DIRNAME / f"{_SESSION_LOCK_PREFIX}{session_id}.lock"


def hold_session(tests_root: Path, session_id: str) -> HeldLock:
    """Mark ``session_id`` live in ``tests_root`` until the lock is released (or the process
    dies). Every process of a session holds it, so the session stays live while any runs."""
    return acquire(
        session_lock_path(tests_root, session_id),
        timeout=-1,  # an exclusive holder only ever tests a dead session's lock, briefly
        owner=f"pytest session {session_id}",
        shared=True,
    )


def session_is_live(tests_root: Path, session_id: str) -> bool:
    """True while a process of ``session_id`` holds its lock in ``tests_root``.

    A dead session's lock file is removed on the way (while held exclusively, so a process
    taking it at the same moment notices and opens the path afresh).
    """
    if sys.platform == "win32":  # pragma: no cover - no shared locks: assume live
        return True
    path = session_lock_path(tests_root, session_id)
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    except OSError as error:
        return error.errno != errno.ELOOP  # a planted symlink proves nothing about liveness
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        with contextlib.suppress(OSError):
            os.unlink(path)
        return False
    finally:
        os.close(fd)


def _dead_session_locks(tests_root: Path, current: str) -> Iterator[str]:
    """Ids of the sessions with a lock file in ``tests_root`` (all but ``current``)."""
    try:
        names = os.listdir(tests_root / _LOCKS_DIRNAME)
    except OSError:
        return
    for name in names:
        if name.startswith(_SESSION_LOCK_PREFIX) and name.endswith(".lock"):
            session_id = name[len(_SESSION_LOCK_PREFIX) : -len(".lock")]
            if session_id != current:
                yield session_id


def _real_dirs(tests_root: Path) -> list[Path]:
    """The test dirs directly in ``tests_root``: real dirs only (no symlink is followed or
    touched), bookkeeping (``.artifacts.*``) excluded."""
    try:
        entries = list(os.scandir(tests_root))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(
        Path(e.path)
        for e in entries
        if not is_internal_name(e.name) and e.is_dir(follow_symlinks=False)
    )


def _retained_sessions(markers: list[KeepMarker], current: str, retention_count: int) -> set[str]:
    """The sessions whose kept dirs stay: the newest ``retention_count - 1`` sessions that kept
    something, by start time (the starting session is the last of the count)."""
    started: dict[str, float] = {}
    for marker in markers:
        if marker.session_id != current:
            started[marker.session_id] = marker.session_started
    newest = sorted(started, key=lambda s: (started[s], s), reverse=True)
    return {current, *newest[: max(retention_count - 1, 0)]}


def reap(
    tests_root: Path,
    *,
    session: SessionInfo,
    retention_count: int,
    discard: Callable[[Path], None],
    on_error: Callable[[Path, OSError], None] | None = None,
) -> list[Path]:
    """Discard the dirs in ``tests_root`` that no session means to keep; returns them.

    A dir is left alone while its per-test lock is held (a test of some session is using
    it), while it is a live session's shared dir, or while it carries a keep marker of a live
    session or of a session within the last ``retention_count``. Everything else goes: dirs
    with no keep marker (orphans) and dirs kept by older sessions. Never waits for a lock.

    A dir that ``discard`` cannot remove (an :class:`OSError`: a read-only or immutable dir)
    is passed to ``on_error`` and left where it is; the others are still reaped. Without an
    ``on_error`` the first such error is raised once every other dir has been reaped.
    """
    dirs = _real_dirs(tests_root)
    markers = [m for m in (KeepMarker.read(d) for d in dirs) if m is not None]
    retained = _retained_sessions(markers, session.id, retention_count)
    live: dict[str, bool] = {}

    def is_live(session_id: str) -> bool:
        if session_id not in live:
            live[session_id] = session_is_live(tests_root, session_id)
        return live[session_id]

    from artifact_manager.storage.cleanup import RemovalErrors

    reaped = []
    errors = RemovalErrors(on_error)
    for root in dirs:
        try:
            lock = acquire(lock_path_for(root), timeout=0, owner="reaping left-over test dirs")
        except ArtifactLockTimeout:
            continue  # a test is using it
        with lock:
            marker = KeepMarker.read(root)
            if marker is not None:
                if marker.session_id in retained or is_live(marker.session_id):
                    continue
            else:
                shared_by = read_shared_session(root)
                if shared_by is not None and (shared_by == session.id or is_live(shared_by)):
                    continue
            if not errors.remove(discard, root):
                continue
        reaped.append(root)
    for session_id in _dead_session_locks(tests_root, session.id):
        is_live(session_id)  # removes the lock file of a dead session
    errors.raise_first()
    return reaped
