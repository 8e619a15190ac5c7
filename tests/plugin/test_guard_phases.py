"""A detected change names the phase it happened in (serial runs): inotify is asked after every
phase; the tree diff, too costly for that, is asked once and says "during" the test."""

from __future__ import annotations

import json

import pytest

PROD = "data/ensembl/GRCh37/spliceai_eval/meta_models"

SUITE = """
import subprocess
import pytest

P = {production!r}

def touch(name):
    subprocess.run(["touch", f"{{P}}/{{name}}"], check=True)  # not seen by the audit hook

@pytest.fixture
def writes_in_setup():
    touch("setup.tsv")

@pytest.fixture
def writes_in_teardown():
    yield
    touch("teardown.tsv")

def test_setup(writes_in_setup):
    pass

def test_call():
    touch("call.tsv")

def test_teardown(writes_in_teardown):
    pass
"""

# Swap in the tree diff for inotify once the session has made its watcher.
TREE_DIFF = """
import pytest
from artifact_manager.guard.detect import TreeDiffWatcher
from artifact_manager.plugin.session import STATE_KEY

@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    guard = session.config.stash[STATE_KEY].guard
    guard.watcher.close()
    guard.watcher = TreeDiffWatcher(list(guard.policy.roots), guard.policy.is_protected)
"""


@pytest.fixture
def production(pytester):
    path = pytester.path / PROD
    path.mkdir(parents=True)
    return path


def phases(pytester):
    """Per test: (phase, file name) of its violations (the tree diff also lists the dir)."""
    report = json.loads((pytester.path / "r.json").read_text())
    return {
        t["nodeid"].split("::")[1]: sorted(
            (v["phase"], v["path"].rsplit("/", 1)[1])
            for v in t["violations"]
            if v["path"].endswith(".tsv")
        )
        for t in report["tests"]
    }


def test_inotify_pins_each_change_on_its_phase(pytester, production):
    pytester.makepyfile(SUITE.format(production=str(production)))
    result = pytester.runpytest_subprocess("-p", "no:xdist", "--artifacts-report=r.json")
    # an error in setup, a failed call, an error in teardown (after a passed call)
    result.assert_outcomes(passed=1, failed=1, errors=2)
    assert phases(pytester) == {
        "test_setup": [("setup", "setup.tsv")],
        "test_call": [("call", "call.tsv")],
        "test_teardown": [("teardown", "teardown.tsv")],
    }
    result.stdout.fnmatch_lines(
        [
            "*changed: created */setup.tsv (in the setup of test_*.py::test_setup)",
            "*changed: created */call.tsv (in the call of test_*.py::test_call)",
            "*changed: created */teardown.tsv (in the teardown of test_*.py::test_teardown)",
        ],
        consecutive=False,
    )


def test_tree_diff_says_during_the_test(pytester, production):
    pytester.makeconftest(TREE_DIFF)
    pytester.makepyfile(SUITE.format(production=str(production)))
    result = pytester.runpytest_subprocess("-p", "no:xdist", "--artifacts-report=r.json")
    result.assert_outcomes(passed=3, errors=3)  # each fails in its teardown
    assert phases(pytester) == {
        "test_setup": [("test", "setup.tsv")],
        "test_call": [("test", "call.tsv")],
        "test_teardown": [("test", "teardown.tsv")],
    }
    result.stdout.fnmatch_lines(["*changed: * */call.tsv (during test_*.py::test_call)"])
    assert "(teardown of" not in result.stdout.str()
