"""Every route of the guard corpus, serial and under ``-n 2``: stopped routes (the audit hook,
or a library's writer checked before it writes) fail and leave production byte-identical,
detected routes fail with the change listed (per test and phase when serial, at session level
under xdist), controls pass. The table in docs/guard.md must be what this run produced."""

from __future__ import annotations

import json
import re
from pathlib import Path

import guard_corpus as corpus
import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "guard.md"


def run_corpus(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: list[str]):
    corpus.prepare(pytester.path)
    before = corpus.snapshot(pytester.path)
    pytester.makepyfile(test_corpus=corpus.test_module())
    monkeypatch.setenv("CORPUS_ROOT", str(pytester.path))
    # --tb=no: outcomes come from the report, and formatting ~100 failures costs seconds
    result = pytester.runpytest_subprocess("--artifacts-report=report.json", "--tb=no", *args)
    report = json.loads((pytester.path / "report.json").read_text())
    return result, report, before, corpus.snapshot(pytester.path)


@pytest.fixture(scope="module")
def runs():
    """What each corpus run of this module found, for the docs-table check after them."""
    return {}


@pytest.mark.parametrize("mode", ["serial", "xdist"])
def test_corpus(pytester, monkeypatch, runs, mode):
    args = ["-p", "no:xdist"] if mode == "serial" else ["-n", "2"]
    result, report, before, after = run_corpus(pytester, monkeypatch, args)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    outcomes = corpus.outcomes(report)
    session = corpus.session_paths(report)
    for route in corpus.ROUTES:
        outcome, layers = outcomes[route.name]
        layers = route.stopped_as(layers)
        changed = before[route.name] != after[route.name]
        where = f"{route.name} ({mode})"
        if route.expected in corpus.STOPPED:
            assert (outcome, layers, changed) == ("failed", [route.expected], False), where
        elif route.expected == corpus.CONTROL:
            assert (outcome, layers, changed) == ("passed", [], False), where
        elif mode == "serial":
            assert (outcome, layers, changed) == ("failed", ["detected"], True), where
            # inotify pins the change on the phase it happened in (the call), not the teardown
            assert corpus.phases(report, route.name) == {"call"}, where
        else:
            assert changed, where
            assert any(f"/{route.name}/" in path for path in session), where
    runs[mode] = (outcomes, session)


def test_docs_table_is_this_runs(runs):
    if set(runs) != {"serial", "xdist"}:
        pytest.skip("needs both corpus runs of this module")
    expected = corpus.table(runs["serial"][0], runs["xdist"][0], runs["xdist"][1])
    page = DOC.read_text()
    found = re.search(
        re.escape(corpus.TABLE_START) + r"\n(.*?)\n" + re.escape(corpus.TABLE_END), page, re.DOTALL
    )
    assert found, "docs/guard.md lost its corpus table markers"
    assert found.group(1) == expected, "run: python tests/plugin/guard_corpus.py"
