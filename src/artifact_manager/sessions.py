"""What a pytest session is to the dirs it leaves: its identity, and how many sessions' kept
dirs survive.

Every session needs these, most never reap, keep or lock anything: they live apart from
:mod:`artifact_manager.storage.retention` (the rules that use them, which re-exports both), so
that a session whose tests claim no dir does not load the retention rules, the locks or the
trash.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["DEFAULT_RETENTION_COUNT", "SessionInfo"]

#: Kept dirs of this many sessions survive (the session starting counts as one).
DEFAULT_RETENTION_COUNT = 3


class SessionInfo(NamedTuple):
    """A pytest session (every xdist worker shares its controller's): id and start time."""

    id: str
    #: Seconds since the epoch.
    started: float
