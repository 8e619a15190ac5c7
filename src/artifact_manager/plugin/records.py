"""``ArtifactRecord``: what one test left, one entry of the JSON report's ``tests`` list.

A dataclass (its ``asdict`` is the report's JSON and the xdist round trip), in a module of
its own: it is made when a test first claims a dir, not at every session's start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from artifact_manager.violations import Violation

__all__ = ["ArtifactRecord"]


@dataclass
class ArtifactRecord:
    """One test's artifacts (one entry of the JSON report's ``tests`` list)."""

    nodeid: str
    test_name: str
    artifacts_dir: str
    test_root: str
    outcome: str
    kept: bool
    size: int
    files: list[dict[str, Any]] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    #: Seconds the test's setup, call and teardown took (its last attempt).
    duration: float = 0.0
    #: When its last attempt ended (ISO 8601, UTC): a merge of CI shards keeps the latest.
    finished: str = ""

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ArtifactRecord:
        """The record :func:`dataclasses.asdict` made ``raw`` from (the xdist round trip)."""
        found = [Violation(**v) for v in raw.get("violations", [])]
        return cls(**{**raw, "violations": found})
