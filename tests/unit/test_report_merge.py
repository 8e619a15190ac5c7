"""Merging JSON reports (CI shards) and reading them back from where they were moved to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from artifact_manager import ArtifactUsageError
from artifact_manager.reporting import merge_reports, read_report, render_html, write_report


def _report(run_id: str, started: str, *tests: dict[str, Any]) -> dict[str, Any]:
    return {
        "run": {"id": run_id, "started": started, "plugin": "0.2.0", "pytest": "9.0.0"},
        "tests": list(tests),
        "violations": [],
        "reaped": [],
    }


def _test(nodeid: str, outcome: str, finished: str, root: Path, kept: bool = False):
    return {
        "nodeid": nodeid,
        "outcome": outcome,
        "finished": finished,
        "test_root": str(root),
        "artifacts_dir": str(root / "meta_models"),
        "kept": kept,
        "files": [],
        "violations": [],
    }


def _write(path: Path, report: dict[str, Any]) -> Path:
    write_report(report, path)
    return path


def _merge(*paths: Path) -> dict[str, Any]:
    return merge_reports(list(paths), [read_report(p) for p in paths], now=0.0)


def test_a_moved_report_finds_its_dirs_where_it_is_now(tmp_path):
    root = tmp_path / "job" / "data" / "tests" / "t-1"
    root.mkdir(parents=True)
    report = _write(
        tmp_path / "job" / "out" / "r.json", _report("a", "t0", _test("t::a", "failed", "t1", root))
    )
    assert json.loads(report.read_text())["tests"][0]["from_report"] == {
        "test_root": "../data/tests/t-1",
        "artifacts_dir": "../data/tests/t-1/meta_models",
    }
    (tmp_path / "job").rename(tmp_path / "downloaded")
    (test,) = read_report(tmp_path / "downloaded" / "out" / "r.json")["tests"]
    assert test["test_root"] == str(tmp_path / "downloaded" / "data" / "tests" / "t-1")
    assert test["artifacts_dir"] == str(
        tmp_path / "downloaded" / "data" / "tests" / "t-1" / "meta_models"
    )


def test_the_latest_attempt_wins_and_the_others_are_listed_latest_first(tmp_path):
    reports = [
        _write(tmp_path / "a.json", _report("a", "t0", _test("t::x", "failed", "t3", tmp_path))),
        _write(tmp_path / "b.json", _report("b", "t0", _test("t::x", "passed", "t5", tmp_path))),
        _write(tmp_path / "c.json", _report("c", "t0", _test("t::x", "failed", "t4", tmp_path))),
    ]
    (test,) = _merge(*reports)["tests"]
    assert (test["shard"], test["outcome"]) == ("b", "passed")
    assert [(a["shard"], a["finished"]) for a in test["other_attempts"]] == [
        ("c", "t4"),
        ("a", "t3"),
    ]


def test_ties_go_to_the_shard_that_started_later_then_to_the_one_given_later(tmp_path):
    a = _write(tmp_path / "a.json", _report("a", "t2", _test("t::x", "failed", "", tmp_path)))
    b = _write(tmp_path / "b.json", _report("b", "t1", _test("t::x", "passed", "", tmp_path)))
    assert _merge(a, b)["tests"][0]["shard"] == "a"
    c = _write(tmp_path / "c.json", _report("c", "t2", _test("t::x", "skipped", "", tmp_path)))
    assert _merge(a, c)["tests"][0]["shard"] == "c"


def test_labels_are_file_stems_or_dir_names_and_never_repeat(tmp_path):
    def make(path: Path, run_id: str) -> Path:
        return _write(path, _report(run_id, "t0"))

    stems = [make(tmp_path / f"{n}.json", n) for n in ("g1", "g2")]
    assert [s["label"] for s in _merge(*stems)["shards"]] == ["g1", "g2"]
    dirs = [make(tmp_path / d / "report.json", d) for d in ("shard-1", "shard-2")]
    assert [s["label"] for s in _merge(*dirs)["shards"]] == ["shard-1", "shard-2"]
    same = [make(tmp_path / d / "x" / "report.json", d + "x") for d in ("p", "q")]
    assert [s["label"] for s in _merge(*same)["shards"]] == ["x", "x (2)"]


def test_a_merge_can_be_merged_again(tmp_path):
    one = _write(tmp_path / "s1.json", _report("a", "t0", _test("t::x", "failed", "t1", tmp_path)))
    two = _write(tmp_path / "s2.json", _report("b", "t0", _test("t::y", "passed", "t2", tmp_path)))
    three = _write(
        tmp_path / "s3.json", _report("c", "t0", _test("t::x", "passed", "t3", tmp_path))
    )
    first = _write(tmp_path / "m" / "first.json", _merge(one, two))
    merged = _merge(first, three)
    assert [s["label"] for s in merged["shards"]] == ["s1", "s2", "s3"]
    tests = {t["nodeid"]: t for t in merged["tests"]}
    assert (tests["t::x"]["shard"], tests["t::x"]["other_attempts"][0]["shard"]) == ("s3", "s1")
    assert tests["t::y"]["shard"] == "s2"
    # The same shard twice (alone and inside the earlier merge) is refused.
    with pytest.raises(ArtifactUsageError, match=r"holds run a, which .*s1.json' holds too"):
        _merge(one, first)


def test_an_earlier_attempt_in_the_same_dir_is_not_linked(tmp_path):
    """Shards run one after another on one machine: the rerun reuses the test's dir, so the
    earlier attempt's files are gone; its link would show the rerun's files."""
    root = tmp_path / "tests" / "t-1"
    root.mkdir(parents=True)
    a = _write(tmp_path / "a.json", _report("a", "t0", _test("t::x", "failed", "t1", root, True)))
    b = _write(tmp_path / "b.json", _report("b", "t0", _test("t::x", "failed", "t2", root, True)))
    page = render_html(_merge(a, b), tmp_path / "page.html")
    assert page.count('href="tests/t-1"') == 1  # the latest attempt's dir only
    assert "(the same dir, now the latest attempt's)" in page


def test_a_newer_schema_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema_version": 3, "tests": []}))
    with pytest.raises(ArtifactUsageError, match=r"r.json' has schema version 3; .* reads"):
        read_report(path)
