"""Merge the JSON reports of one suite split over several runs (CI shards) into one report.

Each input is a report as :func:`~artifact_manager.reporting.schema.read_report` reads it (its
dirs already placed where the report is now), or an earlier merge (its shards are taken over).
A node id that ran in more than one shard (a rerun shard) is shown once: the attempt that
finished last wins; the others are listed under it as ``other_attempts``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artifact_manager.errors import ArtifactUsageError
from artifact_manager.reporting.schema import (
    SCHEMA_VERSION,
    plugin_version,
    schema_version,
    utc_timestamp,
)

__all__ = ["merge_reports"]


@dataclass
class _Shard:
    label: str
    report: str
    run: dict[str, Any]
    violations: list[dict[str, Any]]
    reaped: list[str]
    tests: list[dict[str, Any]] = field(default_factory=list)


def _input_labels(paths: Sequence[Path]) -> list[str]:
    """A name for each input report: its file stem when the file names differ (``shard1``),
    else its dir's name (``shard-1/report.json`` -> ``shard-1``)."""
    if len({p.name for p in paths}) == len(paths):
        return [p.stem for p in paths]
    return [p.parent.name or p.stem for p in paths]


def _unique(label: str, taken: set[str]) -> str:
    candidate, n = label, 2
    while candidate in taken:
        candidate, n = f"{label} ({n})", n + 1
    taken.add(candidate)
    return candidate


def _shards(paths: Sequence[Path], reports: Sequence[Mapping[str, Any]]) -> list[_Shard]:
    shards: list[_Shard] = []
    taken: set[str] = set()
    for path, report, default in zip(paths, reports, _input_labels(paths), strict=True):
        nested = report.get("shards")
        if isinstance(nested, list):  # an earlier merge: take its shards over
            renamed: dict[str, _Shard] = {}
            for raw in nested:
                shard = _Shard(
                    _unique(str(raw.get("label") or default), taken),
                    str(raw.get("report") or os.path.abspath(path)),
                    dict(raw.get("run") or {}),
                    list(raw.get("violations") or []),
                    list(raw.get("reaped") or []),
                )
                renamed[str(raw.get("label"))] = shard
                shards.append(shard)
            for test in report.get("tests") or []:
                for attempt in (test, *(test.get("other_attempts") or [])):
                    owner = renamed.get(str(attempt.get("shard")))
                    if owner is not None:
                        owner.tests.append(attempt)
            continue
        shard = _Shard(
            _unique(default, taken),
            os.path.abspath(path),
            dict(report.get("run") or {}),
            [dict(v) for v in report.get("violations") or []],
            list(report.get("reaped") or []),
        )
        shard.tests.extend(report.get("tests") or [])
        shards.append(shard)
    return shards


def _check(paths: Sequence[Path], reports: Sequence[Mapping[str, Any]]) -> None:
    """Refuse reports a merge cannot tell apart or place: first-release reports and the same
    run given twice."""
    seen: dict[str, Path] = {}
    for path, report in zip(paths, reports, strict=True):
        if len(reports) > 1 and schema_version(report) < SCHEMA_VERSION:
            raise ArtifactUsageError(
                "report",
                str(path),
                f"has schema version {schema_version(report)} (pytest-artifact-manager 0.1): "
                "it records no run identity and no dirs relative to itself, so it cannot be "
                "merged",
                "run that shard again with pytest-artifact-manager 0.2 or later, or render it "
                "alone (artifact-manager report --html OUT REPORT)",
            )
        ids = [str((report.get("run") or {}).get("id") or "")]
        ids += [str((s.get("run") or {}).get("id") or "") for s in report.get("shards") or []]
        for run_id in filter(None, ids):
            if run_id in seen:
                raise ArtifactUsageError(
                    "report",
                    str(path),
                    f"holds run {run_id}, which {str(seen[run_id])!r} holds too",
                    "pass each shard's report once (and an earlier merge without its shards)",
                )
            seen[run_id] = path


def _ci(run: Mapping[str, Any], *names: str) -> str | None:
    ci = run.get("ci")
    if not isinstance(ci, dict):
        return None
    return next((str(ci[n]) for n in names if n in ci), None)


#: What each shard's run should share with the others, and how to read it from the run.
_SAME = (
    ("plugin versions", lambda run: run.get("plugin")),
    ("pytest versions", lambda run: run.get("pytest")),
    ("commits", lambda run: _ci(run, "GITHUB_SHA", "CI_COMMIT_SHA")),
    ("CI runs", lambda run: _ci(run, "GITHUB_RUN_ID", "CI_PIPELINE_ID")),
)
#: How a run says which part of a split it ran: (total, index) and the first index.
_SPLITS = (
    ("pytest-split group", lambda run: _split(run, "splits", "group"), 1),
    ("pytest-shard shard", lambda run: _split(run, "num_shards", "shard_id"), 0),
    ("CI node", lambda run: (_ci(run, "CI_NODE_TOTAL"), _ci(run, "CI_NODE_INDEX")), 1),
)


def _split(run: Mapping[str, Any], total: str, index: str) -> tuple[object, object]:
    split = run.get("split")
    if not isinstance(split, dict):
        return None, None
    return split.get(total), split.get(index)


def _warnings(shards: Sequence[_Shard]) -> list[str]:
    """What looks wrong with the set of shards: runs of different versions, commits or CI
    runs (a report downloaded from the wrong run), and parts of a split that are missing (a
    job that died before it uploaded its report)."""
    warnings = []
    for what, read in _SAME:
        values: dict[str, list[str]] = {}
        for shard in shards:
            value = read(shard.run)
            if value is not None:
                values.setdefault(str(value), []).append(shard.label)
        if len(values) > 1:
            listed = "; ".join(f"{v}: {', '.join(labels)}" for v, labels in sorted(values.items()))
            warnings.append(f"the shards ran different {what} ({listed})")
    for what, read, first in _SPLITS:
        parts = [read(shard.run) for shard in shards]
        totals = {str(total) for total, index in parts if total is not None and index is not None}
        if len(totals) > 1:
            warnings.append(
                f"the shards were split into different numbers of parts ({what}s "
                f"of {', '.join(sorted(totals))})"
            )
        elif totals and (total := totals.pop()).isdigit():
            ran = {str(index) for _, index in parts}
            missing = [str(i) for i in range(first, first + int(total)) if str(i) not in ran]
            if missing:
                warnings.append(
                    f"{what} {', '.join(missing)} of {total} is missing: its report was not "
                    "given (did its job fail before it uploaded the report?)"
                )
    return warnings


def _shard_entry(shard: _Shard) -> dict[str, Any]:
    kept = [t for t in shard.tests if t.get("kept")]
    outcomes = shard.run.get("outcomes")
    if not isinstance(outcomes, dict):
        outcomes = {}
        for test in shard.tests:
            outcome = str(test.get("outcome"))
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {
        "label": shard.label,
        "report": shard.report,
        "run": shard.run,
        "outcomes": outcomes,
        "tests": len(shard.tests),
        "kept": len(kept),
        "kept_size": sum(int(t.get("size") or 0) for t in kept),
        "violations": shard.violations,
        "reaped": shard.reaped,
    }


def merge_reports(
    paths: Sequence[Path], reports: Sequence[Mapping[str, Any]], *, now: float
) -> dict[str, Any]:
    """One report of the runs in ``reports`` (read from ``paths``, in that order).

    Raises :class:`ArtifactUsageError` for reports that cannot be merged (see :func:`_check`).
    """
    _check(paths, reports)
    shards = _shards(paths, reports)
    starts = {i: str(s.run.get("started") or "") for i, s in enumerate(shards)}
    attempts: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for index, shard in enumerate(shards):
        for test in shard.tests:
            entry = {k: v for k, v in test.items() if k != "other_attempts"}
            entry["shard"] = shard.label
            attempts.setdefault(str(test.get("nodeid")), []).append((index, entry))

    def latest(pair: tuple[int, dict[str, Any]]) -> tuple[str, str, int]:
        index, test = pair  # ties: the shard that started later, then the one given later
        return str(test.get("finished") or ""), starts[index], index

    tests = []
    for found in attempts.values():
        ordered = sorted(found, key=latest, reverse=True)
        winner = dict(ordered[0][1])
        if len(ordered) > 1:
            winner["other_attempts"] = [entry for _, entry in ordered[1:]]
        tests.append(winner)
    violations = [{**v, "shard": s.label} for s in shards for v in s.violations]
    warnings = _warnings(shards)
    return {
        "run": {
            "id": uuid.uuid4().hex,
            "merged": True,
            "created": utc_timestamp(now),
            "plugin": plugin_version(),
        },
        "warnings": warnings,
        "shards": [_shard_entry(s) for s in shards],
        "tests": tests,
        "violations": violations,
        "reaped": [path for s in shards for path in s.reaped],
        "errors": [str(e) for report in reports for e in report.get("errors") or []],
    }
