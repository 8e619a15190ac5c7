"""Merging JSON reports (CI shards) and reading them back from where they were moved to."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from artifact_manager import ArtifactUsageError
from artifact_manager.cli import main
from artifact_manager.reporting import merge_reports, read_report, render_html, write_report
from artifact_manager.storage.retention import KeepMarker, SessionInfo


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
    test = _test("t::a", "failed", "t1", root)
    # A file of another root the test made (another layout) is named by absolute path.
    other = tmp_path / "job" / "data" / "other" / "tests" / "t-1" / "x.tsv"
    test["files"] = [{"name": "a.tsv", "size": 1}, {"name": str(other), "size": 1}]
    report = _write(tmp_path / "job" / "out" / "r.json", _report("a", "t0", test))
    assert json.loads(report.read_text())["tests"][0]["from_report"] == {
        "test_root": "../data/tests/t-1",
        "artifacts_dir": "../data/tests/t-1/meta_models",
    }
    (tmp_path / "job").rename(tmp_path / "downloaded")
    (test,) = read_report(tmp_path / "downloaded" / "out" / "r.json")["tests"]
    assert [f["name"] for f in test["files"]] == [
        "a.tsv",
        str(tmp_path / "downloaded" / "data" / "other" / "tests" / "t-1" / "x.tsv"),
    ]
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


def _kept_by(root: Path, run_id: str) -> None:
    """Mark ``root`` kept by run ``run_id``, as the plugin does."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "scores.tsv").write_text("gene\tscore\n")
    KeepMarker.now(SessionInfo(run_id, 0.0), "failed", "failed", "t::x").write(root)


def _attempt_dirs(page: str, html_report) -> dict[str, str]:
    """Each attempt's "dir:" text on the page, by shard (the latest first)."""
    text = html_report.text(page)
    found = {}
    for shard in ("a", "b"):
        latest = f'data-shard="{shard}"' in page
        marker = "dir: " if latest else f"in {shard}, finished "
        line = text.split(marker, 1)[1].split("\n", 1)[0]
        found[shard] = line.split("dir: ", 1)[-1]
    return found


def test_a_dir_two_attempts_name_is_linked_from_the_run_that_kept_it(tmp_path, html_report):
    """Shards rerun on one machine, or GitLab extracting every shard into one dir: two
    attempts name one dir, whose keep marker says whose files are there."""
    root = tmp_path / "tests" / "t-1"
    # GitLab: shard a failed and kept the dir; shard b, later, passed and removed its own
    # copy, so the extracted dir holds shard a's files.
    _kept_by(root, "a")
    files = [{"name": "scores.tsv", "size": 11, "sha256": ""}]
    a = _test("t::x", "failed", "t1", root, kept=True) | {"files": files}
    b = _test("t::x", "passed", "t2", root) | {"files": files}
    merged = _merge(
        _write(tmp_path / "a.json", _report("a", "t0", a)),
        _write(tmp_path / "b.json", _report("b", "t0", b)),
    )
    page = render_html(merged, tmp_path / "page.html")
    assert page.count('href="tests/t-1"') == 1  # from the failed attempt only
    dirs = _attempt_dirs(page, html_report)
    assert dirs["b"].endswith("(removed)")
    assert dirs["a"] == str(root)  # linked
    # A rerun on one machine: both kept, the later run's files are there now.
    _kept_by(root, "b")
    b["kept"] = True
    merged = _merge(
        _write(tmp_path / "a.json", _report("a", "t0", a)),
        _write(tmp_path / "b.json", _report("b", "t0", b)),
    )
    page = render_html(merged, tmp_path / "page.html")
    assert page.count('href="tests/t-1"') == 1
    assert page.count('href="tests/t-1/scores.tsv"') == 1  # the latest attempt's file
    dirs = _attempt_dirs(page, html_report)
    assert dirs["b"] == str(root)
    assert dirs["a"] == f"{root} (kept; it holds the attempt of b now)"


def test_a_newer_schema_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema_version": 3, "tests": []}))
    with pytest.raises(ArtifactUsageError, match=r"r.json' has schema version 3; .* reads"):
        read_report(path)


GOOD_TEST = {"nodeid": "t::x", "test_root": "/r", "files": [], "violations": []}


@pytest.mark.parametrize(
    ("report", "problem"),
    [
        ({"tests": [GOOD_TEST], "violations": ["x"]}, "violations[0] is not an object"),
        ({"tests": [GOOD_TEST], "reaped": "abc"}, "reaped is not a list"),
        ({"schema_version": 2, "run": "x", "tests": []}, "run is not an object"),
        ({"run": {"split": 3}, "tests": []}, "run.split is not an object or null"),
        ({"run": {"ci": ["GITHUB_SHA"]}, "tests": []}, "run.ci is not an object or null"),
        (
            {"tests": [], "shards": [{"label": "a", "report": "a.json", "run": {"ci": "x"}}]},
            "shards[0].run.ci is not an object or null",
        ),
        (
            {"tests": [{**GOOD_TEST, "files": [{"name": "a", "name_hex": "caf"}]}]},
            "tests[0].files[0].name_hex is not a name's bytes in hex",
        ),
        ({"tests": ["t::x"]}, "tests[0] is not an object"),
        ({"tests": [{"test_root": "/r"}]}, "tests[0] has no nodeid"),
        ({"tests": [{**GOOD_TEST, "size": "big"}]}, "tests[0].size is not an integer"),
        ({"tests": [{**GOOD_TEST, "duration": "slow"}]}, "tests[0].duration is not a number"),
        ({"tests": [{**GOOD_TEST, "test_root": 3}]}, "tests[0].test_root is not a string"),
        ({"tests": [{**GOOD_TEST, "files": ["a.tsv"]}]}, "tests[0].files[0] is not an object"),
        (
            {"tests": [{**GOOD_TEST, "files": [{"name": "a", "size": "1"}]}]},
            "tests[0].files[0].size is not an integer",
        ),
        (
            {"tests": [{**GOOD_TEST, "other_attempts": "shard-1"}]},
            "tests[0].other_attempts is not a list",
        ),
        (
            {"tests": [{**GOOD_TEST, "other_attempts": [{"nodeid": "t::x", "kept": "yes"}]}]},
            "tests[0].other_attempts[0].kept is not true or false",
        ),
        ({"tests": [], "shards": [{"label": "a"}]}, "shards[0] has no label or report"),
        (
            {"tests": [], "shards": [{"label": "a", "report": "a.json", "kept": "2"}]},
            "shards[0].kept is not an integer",
        ),
        # Another tool's JSON (pytest-json-report): tests, but no artifact dirs.
        (
            {"tests": [{"nodeid": "t::x", "outcome": "passed"}]},
            "tests[0] names no artifact dir (test_root, artifacts_dir)",
        ),
    ],
)
def test_a_malformed_report_is_refused_naming_the_element(tmp_path, report, problem):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    with pytest.raises(ArtifactUsageError) as caught:
        read_report(path)
    assert str(caught.value) == (
        f"report: {str(path)!r} is not an artifact report: {problem}; pass a file pytest "
        "--artifacts-report=PATH (or artifact-manager report --json) wrote"
    )


def test_a_first_release_report_rewritten_stays_version_1(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"tests": [GOOD_TEST], "violations": []}))
    write_report(read_report(path), tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text())["schema_version"] == 1
    new = _write(tmp_path / "new.json", _report("a", "t0"))
    with pytest.raises(ArtifactUsageError, match=r"'.*again.json' has schema version 1 \("):
        _merge(tmp_path / "again.json", new)


def test_a_newer_report_is_refused_in_a_merge_too(tmp_path):
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"schema_version": 3, "run": {}, "tests": []}))
    with pytest.raises(ArtifactUsageError, match=r"newer.json' has schema version 3"):
        _merge(_write(tmp_path / "a.json", _report("a", "t0")), newer)


def test_a_merge_says_which_part_of_a_split_is_missing_and_which_runs_differ(tmp_path):
    def shard(n: int, sha: str) -> Path:
        report = _report(f"r{n}", "t0")
        report["run"]["split"] = {"splits": 4, "group": n}
        report["run"]["ci"] = {"GITHUB_SHA": sha, "GITHUB_RUN_ID": "7"}
        return _write(tmp_path / f"shard-{n}.json", report)

    merged = _merge(shard(1, "abc"), shard(2, "abc"), shard(4, "def"))
    assert merged["warnings"] == [
        "the shards ran different commits (abc: shard-1, shard-2; def: shard-4)",
        "pytest-split group 3 of 4 is missing: its report was not given (did its job fail "
        "before it uploaded the report?)",
    ]
    page = render_html(merged, tmp_path / "page.html")
    assert "pytest-split group 3 of 4 is missing" in page


def test_a_nested_label_that_collides_with_a_new_one_is_renamed(tmp_path):
    one = _write(tmp_path / "s1.json", _report("a", "t0", _test("t::x", "failed", "t1", tmp_path)))
    two = _write(tmp_path / "s2.json", _report("b", "t0"))
    first = _write(tmp_path / "m" / "first.json", _merge(one, two))
    again = _write(
        tmp_path / "new" / "s1.json", _report("c", "t0", _test("t::x", "passed", "t2", tmp_path))
    )
    merged = _merge(first, again)
    assert [s["label"] for s in merged["shards"]] == ["s1", "s2", "s1 (2)"]
    (test,) = merged["tests"]
    assert (test["shard"], test["other_attempts"][0]["shard"]) == ("s1 (2)", "s1")


def test_every_value_of_a_merged_report_is_escaped(tmp_path, html_report):
    evil = "<script>alert(1)</script>"
    report = _report("a", "t0", _test(f"t::x[{evil}]", "failed", "t1", tmp_path))
    report["run"] |= {"host": evil, "args": [evil], "pytest": evil, "split": None}
    report["violations"] = [{"operation": evil, "path": evil, "phase": "call", "culprit": evil}]
    one = _write(tmp_path / f"{evil.replace('/', '')}.json", report)
    two = _write(
        tmp_path / "b.json", _report("b", "t0", _test(f"t::x[{evil}]", evil, "t0", tmp_path))
    )
    page = render_html(_merge(one, two), tmp_path / "page.html")
    assert html_report.tags(page).count("script") == 1  # the page's own
    text = html_report.text(page)
    assert text.count("<script>alert(1)</script>") >= 5  # shown as text


def test_the_cli_refuses_a_report_given_twice_and_warns_of_mixed_versions(tmp_path, capsys):
    one = _write(tmp_path / "shard-1" / "report.json", _report("a", "t0"))
    assert main(["report", "--html", str(tmp_path / "x.html"), str(one), str(one)]) == 2
    err = capsys.readouterr().err
    assert f"{str(one)!r} holds run a, which {str(one)!r} holds too; pass each shard" in err
    assert not (tmp_path / "x.html").exists()
    newer = _report("b", "t0")
    newer["run"]["plugin"] = "9.9.9"
    two = _write(tmp_path / "shard-2" / "report.json", newer)
    assert main(["report", "--html", str(tmp_path / "x.html"), str(one), str(two)]) == 0
    warning = "the shards ran different plugin versions (0.2.0: shard-1; 9.9.9: shard-2)"
    assert f"artifact-manager: warning: {warning}\n" in capsys.readouterr().err
    assert warning in (tmp_path / "x.html").read_text()


def test_a_file_name_that_is_not_utf8_is_written_shown_and_read_back_exact(tmp_path):
    name = os.fsdecode(b"meta_models/caf\xe9.tsv")  # a lone surrogate for the byte 0xe9
    test = _test("t::x", "passed", "t1", tmp_path / "t-1")
    test["files"] = [{"name": name, "size": 4, "sha256": ""}]
    violation = {"test": "t::x", "phase": "call", "path": f"/p/{name}", "operation": "write"}
    report = _report("a", "t0", test)
    report["violations"] = [{**violation, "layer": "detected"}]
    path = _write(tmp_path / "r.json", report)
    text = path.read_bytes().decode("utf-8")  # valid UTF-8 ...
    assert "\\ud" not in text  # ... with no lone surrogate escapes (strict readers refuse them)
    written = json.loads(text)
    assert written["tests"][0]["files"][0]["name"] == "meta_models/caf\\xe9.tsv"
    assert written["tests"][0]["files"][0]["name_hex"] == b"meta_models/caf\xe9.tsv".hex()
    assert written["violations"][0]["path"] == "/p/meta_models/caf\\xe9.tsv"
    (back,) = read_report(path)["tests"]
    assert back["files"] == [{"name": name, "size": 4, "sha256": ""}]
