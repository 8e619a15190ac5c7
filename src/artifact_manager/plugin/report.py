"""What each test left: records, the xdist round trip, the terminal summary, the JSON report."""

from __future__ import annotations

import json
import os
import platform
import socket
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from artifact_manager.plugin.lifecycle import Finished
    from artifact_manager.plugin.records import ArtifactRecord
    from artifact_manager.sessions import SessionInfo
    from artifact_manager.violations import Violation

# The records, the report's JSON and its sizes are imported where they are first used: a
# session whose tests claim no dir and break no rule makes none of them (each dataclass
# costs ~1 ms to make at import; see docs/performance.md).

__all__ = ["ATTACHMENTS_SECTION", "ArtifactReport", "attach", "run_identity"]

#: The teardown report section that lists kept files as ``[[ATTACHMENT|path]]`` lines. Its
#: name starts with "Captured stdout" so that pytest's junitxml writes it into the test's
#: ``<system-out>`` (with ``junit_logging = system-out``, ``out-err`` or ``all``).
ATTACHMENTS_SECTION = "Captured stdout artifacts"


class ArtifactReport:
    """Everything the session learnt; workers ship theirs to the controller as a payload."""

    def __init__(self) -> None:
        self.records: dict[str, ArtifactRecord] = {}
        self.outcomes: dict[str, str] = {}
        self.shared_roots: set[str] = set()
        #: Session-level violations: changes no single test could be blamed for.
        self.violations: list[Violation] = []
        #: Violations of each test (every attempt).
        self.test_violations: dict[str, list[Violation]] = {}
        #: Dirs removed at session start (or when a tests root was first used): left behind,
        #: or kept by sessions outside the retention window.
        self.reaped: list[str] = []
        #: Warnings that ``-W error`` made errors outside any test (TestDirs.warn).
        self.errors: list[str] = []
        #: xdist workers whose records were merged in (0: a serial session).
        self.workers = 0

    def note_violations(self, nodeid: str, violations: list[Violation]) -> None:
        if violations:
            self.test_violations.setdefault(nodeid, []).extend(violations)

    def has_violations(self, nodeid: str) -> bool:
        return nodeid in self.test_violations

    @property
    def violation_count(self) -> int:
        return len(self.violations) + sum(len(v) for v in self.test_violations.values())

    def add(
        self, nodeid: str, outcome: str, record: ArtifactRecord | None, duration: float = 0.0
    ) -> None:
        """Note a test's outcome and record (``duration``: seconds of its last attempt); a
        rerun replaces the earlier attempt's."""
        self.outcomes[nodeid] = outcome
        if record is not None:
            from artifact_manager.reporting.schema import utc_timestamp

            record.violations = list(self.test_violations.get(nodeid, []))
            record.duration = round(duration, 6)
            record.finished = utc_timestamp(time.time())
            self.records[nodeid] = record
        else:
            self.records.pop(nodeid, None)

    @property
    def any_failed(self) -> bool:
        return "failed" in self.outcomes.values()

    # -- xdist round trip ------------------------------------------------------------------

    def payload(self) -> dict[str, Any]:
        """What a worker sends the controller: its report as JSON text (and its shared roots,
        which the controller takes over). Text, because execnet sends only strings that are
        valid UTF-8, and a file name that is not holds lone surrogates (as
        :func:`os.fsdecode` gives them); JSON's ``\\udcXX`` escapes carry them over."""
        return {"json": json.dumps(self._payload()), "shared_roots": sorted(self.shared_roots)}

    def _payload(self) -> dict[str, Any]:
        return {
            "records": [asdict(r) for r in self.records.values()],
            "outcomes": self.outcomes,
            "shared_roots": sorted(self.shared_roots),
            "violations": [v.as_dict() for v in self.violations],
            "test_violations": {
                nodeid: [v.as_dict() for v in found]
                for nodeid, found in self.test_violations.items()
            },
            "reaped": self.reaped,
            "errors": self.errors,
        }

    def merge(self, sent: dict[str, Any]) -> None:
        """Take in a worker's :meth:`payload`."""
        from artifact_manager.plugin.records import ArtifactRecord
        from artifact_manager.violations import Violation

        payload: dict[str, Any] = json.loads(sent["json"])

        self.outcomes.update(payload.get("outcomes", {}))
        for raw in payload.get("records", []):
            self.records[raw["nodeid"]] = ArtifactRecord.from_dict(raw)
        self.shared_roots.update(payload.get("shared_roots", []))
        self.violations.extend(Violation(**v) for v in payload.get("violations", []))
        for nodeid, found in payload.get("test_violations", {}).items():
            self.test_violations.setdefault(nodeid, []).extend(Violation(**v) for v in found)
        self.reaped.extend(payload.get("reaped", []))
        self.errors.extend(payload.get("errors", []))
        self.workers += 1

    # -- output --------------------------------------------------------------------------

    def to_json(self, run: dict[str, Any]) -> dict[str, Any]:
        """The report's dict (see :mod:`artifact_manager.reporting.schema`); ``run`` is the
        session's :func:`run_identity`."""
        counts: dict[str, int] = {}
        for outcome in self.outcomes.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        return {
            "run": {**run, "workers": self.workers, "outcomes": counts},
            "tests": [asdict(r) for r in self.records.values()],
            "violations": [v.as_dict() for v in self.violations],
            "reaped": sorted(self.reaped),
            "errors": list(self.errors),
        }

    def write(self, path: Path, run: dict[str, Any]) -> None:
        """Write the JSON report: atomically, or in place where no new file may be made
        beside it (strict mode made the file before enforcement)."""
        from artifact_manager.reporting.schema import write_report

        write_report(self.to_json(run), path)

    def summary_lines(self, verbose: bool) -> list[str]:
        kept = [r for r in self.records.values() if r.kept]
        lines: list[str] = []
        if self.violation_count:
            lines.append(f"production guard: {self.violation_count} violation(s)")
            for found in self.test_violations.values():
                lines.extend(f"  {v.line()}" for v in found)
            lines.extend(f"  {v.line()}" for v in self.violations)
        if kept:
            from artifact_manager.reporting.sizes import format_size

            total = sum(r.size for r in kept)
            lines.append(f"kept {len(kept)} test artifact dir(s), {format_size(total)} in total")
            if verbose:
                lines.extend(f"  {r.test_root}  ({format_size(r.size)}, {r.outcome})" for r in kept)
            else:
                parents = sorted({str(Path(r.test_root).parent) for r in kept})
                lines.extend(f"  under {p}" for p in parents)
        elif verbose and self.records:
            lines.append(f"removed the artifact dirs of {len(self.records)} test(s); none kept")
        if self.reaped:
            lines.append(
                f"reaped {len(self.reaped)} test artifact dir(s) that earlier sessions left "
                "behind (or test-mode code outside pytest made) or kept beyond "
                "artifacts_retention_count"
            )
            if verbose:
                lines.extend(f"  {path}" for path in sorted(self.reaped))
        if self.errors:
            lines.append(f"{len(self.errors)} warning(s) made errors by -W error (the run fails):")
            lines.extend(f"  {error}" for error in self.errors)
        return lines

    def write_summary(self, terminal: pytest.TerminalReporter, verbose: bool) -> None:
        lines = self.summary_lines(verbose)
        if not lines:
            return
        terminal.write_sep("-", "artifact manager")
        for line in lines:
            terminal.write_line(line)


def attach(
    item: pytest.Item, report: pytest.TestReport, finished: Finished, junitxml: bool
) -> None:
    """After a test's teardown report: the test gets the user property ``artifacts_dir`` (a
    JUnit ``<property>``); with ``--junitxml``, the kept files are listed as
    ``[[ATTACHMENT|path]]`` lines (the Jenkins / GitLab convention) in its output."""
    assert finished.record is not None
    prop = ("artifacts_dir", finished.record.test_root)
    item.user_properties.append(prop)
    report.user_properties.append(prop)  # this report is made already: junitxml reads it
    if junitxml and finished.kept_files:
        lines = "".join(f"[[ATTACHMENT|{os.path.abspath(p)}]]\n" for p in finished.kept_files)
        report.sections.append((ATTACHMENTS_SECTION, lines))


#: Options of the plugins that split a suite over CI jobs, by the option's dest:
#: pytest-split (``--splits N --group I``) and pytest-shard (``--num-shards N --shard-id I``).
SPLIT_OPTIONS = ("splits", "group", "num_shards", "shard_id")
#: CI variables that tell one job (and one run) from another: GitHub Actions, GitLab CI.
CI_VARIABLES = (
    "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_JOB",
    "GITHUB_SHA",
    "CI_PIPELINE_ID",
    "CI_JOB_ID",
    "CI_JOB_NAME",
    "CI_NODE_INDEX",
    "CI_NODE_TOTAL",
    "CI_COMMIT_SHA",
)


def run_identity(config: pytest.Config, session: SessionInfo) -> dict[str, Any]:
    """Who ran the session, so that the reports of a suite split over CI jobs can be told
    apart and merged: run id, host, times, versions, arguments, split options, CI job."""
    from artifact_manager.reporting.schema import plugin_version, utc_timestamp

    split = {}
    for name in SPLIT_OPTIONS:
        value = config.getoption(name, None)
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            split[name] = value
    ci = {name: os.environ[name] for name in CI_VARIABLES if os.environ.get(name)}
    return {
        "id": session.id,
        "host": socket.gethostname(),
        "started": utc_timestamp(session.started),
        "finished": utc_timestamp(time.time()),
        "python": platform.python_version(),
        "pytest": pytest.__version__,
        "plugin": plugin_version(),
        "rootdir": str(config.rootpath),
        "args": [str(a) for a in config.invocation_params.args],
        "split": split or None,
        "ci": ci or None,
    }
