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
_DOING = {"setup": "setting up", "teardown": "tearing down"}


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
    fixture: str = ""  # the fixture being set up or torn down, if any
    fixture_phase: str = ""  # "setup" or "teardown" of ``fixture`` ("" when there is none)
    thread: str = ""  # the thread that wrote, when it is not the one running the tests
    #: Where that thread was started (``in the call of <test>``), when known (Python 3.12+)
    #: and not where it wrote.
    thread_started: str = ""

    @property
    def culprit(self) -> str:
        """The test, or ``fixture 'x' (function-scoped) (while setting up <test>)``."""
        if self.fixture:
            return f"fixture {self.fixture} ({self._fixture_context()})"
        return self.test

    def _fixture_context(self) -> str:
        """How the fixture's setup or teardown came to run in the test's phase: ``while
        setting up <test>``, ``while tearing down <test>``; a fixture set up in the call (or
        teardown) was asked for there, and a fixture torn down in another phase (a
        parametrized fixture replaced by its next instance as the next test is set up) says
        so."""
        own = self.fixture_phase or "setup"  # a report of 0.1 knew only the setup
        if own == self.phase or self.phase not in PHASES:
            return f"while {_DOING.get(own, own)} {self.test}"
        if own == "setup":
            return f"set up by request.getfixturevalue in the {self.phase} of {self.test}"
        if self.phase == "setup":
            return f"torn down while setting up {self.test}"
        return f"torn down in the {self.phase} of {self.test}"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Violation:
        """The violation :meth:`as_dict` gave ``raw`` (a missing field reads ``?``, a missing
        fixture field empty)."""
        optional = ("fixture", "fixture_phase", "thread", "thread_started")
        return cls(
            **{f.name: str(raw.get(f.name, "" if f.name in optional else "?")) for f in fields(cls)}
        )

    @property
    def verb(self) -> str:
        """``changed`` (it happened: detected after the fact) or ``blocked``."""
        return "changed" if self.layer == "detected" else "blocked"

    @property
    def where(self) -> str:
        """``in the call of <test>``, ``in the teardown of fixture 'x' (...) (while tearing
        down <test>)``; a session-level violation's culprit says it all. A write from a
        thread other than the tests' adds ``, from thread 'name'``, and where that thread was
        started if it was elsewhere (a thread an earlier test left running writes while another
        test runs): ``, from thread 'name' (started in the call of <test>)``."""
        if self.phase == "session":
            where = self.culprit
        else:
            phase = (self.fixture_phase or "setup") if self.fixture else self.phase
            where = in_phase(phase, self.culprit)
        if not self.thread:
            return where
        started = f" (started {self.thread_started})" if self.thread_started else ""
        return f"{where}, from thread {self.thread!r}{started}"

    def error(self) -> ProductionWriteError:
        return ProductionWriteError(self.culprit, self.path, self.operation, REMEDY)

    def line(self) -> str:
        """``blocked: <operation> <path> (in the call of <test>)``: the one way a violation
        is shown (failure text, terminal summary)."""
        return f"{self.verb}: {self.operation} {self.path} ({self.where})"
