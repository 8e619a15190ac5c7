"""A guard violation: one attempt to change a protected path, and the one way it is shown.

Plain values, no pytest: the guard records violations, the plugin ships them between xdist
processes and into the JSON report (:meth:`Violation.as_dict`), and the HTML report renders
them from that JSON (:meth:`Violation.from_dict`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from artifact_manager.errors import ProductionWriteError

__all__ = ["PHASES", "REMEDY", "Violation", "in_phase"]

REMEDY = (
    "write under the test's own dir (test_artifacts_dir / artifact_manager), or mark the "
    "test @pytest.mark.allow_production_writes(reason=...)"
)
PHASES = ("setup", "call", "teardown")


def in_phase(phase: str, culprit: str) -> str:
    """``in the call of <test>``; ``during <test>`` when the phase is not known."""
    if phase in PHASES:
        return f"in the {phase} of {culprit}"
    return f"during {culprit}"


@dataclass(frozen=True)
class Violation:
    """One attempt to change a protected path."""

    test: str
    phase: str  # setup, call, teardown; "test" (some phase of it) or "session" when not known
    path: str
    operation: str
    layer: str  # "prevented" (audit hook), a library of layer 2 ("polars", ...), "detected"
    fixture: str = ""  # the fixture being set up, if any

    @property
    def culprit(self) -> str:
        if self.fixture:
            return f"fixture {self.fixture} (while setting up {self.test})"
        return self.test

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Violation:
        """The violation :meth:`as_dict` gave ``raw`` (a missing field reads ``?``)."""
        return cls(
            **{
                f.name: str(raw.get(f.name, "?" if f.name != "fixture" else ""))
                for f in fields(cls)
            }
        )

    @property
    def verb(self) -> str:
        """``changed`` (it happened: detected after the fact) or ``blocked``."""
        return "changed" if self.layer == "detected" else "blocked"

    @property
    def where(self) -> str:
        """``in the call of <test>``; a session-level violation's culprit says it all."""
        return self.culprit if self.phase == "session" else in_phase(self.phase, self.culprit)

    def error(self) -> ProductionWriteError:
        return ProductionWriteError(self.culprit, self.path, self.operation, REMEDY)

    def line(self) -> str:
        """``blocked: <operation> <path> (in the call of <test>)``: the one way a violation
        is shown (failure text, terminal summary)."""
        return f"{self.verb}: {self.operation} {self.path} ({self.where})"
