"""What the plugin costs every test, counted in hook calls (not timed: the suite has no timing
asserts; ``tests/benchmarks/bench_plugin_overhead.py`` measures the time).

pluggy calls every implementation of a hook for every test, so each per-test hook the plugin
implements is paid by every test of a suite, also by tests that use none of its fixtures.
The budget: one setup hook and one report wrapper per phase; nothing per fixture, nothing per
collected item.
"""

from __future__ import annotations

import json
import sys

import pytest

COUNTING = """
import json
from collections import Counter

import pytest

CALLS = Counter()


def pytest_configure(config):
    def before(hook_name, hook_impls, kwargs):
        for impl in hook_impls:
            if impl.plugin_name.startswith("artifact_manager"):
                CALLS[f"{impl.plugin_name}:{hook_name}"] += 1

    config.add_cleanup(config.pluginmanager.add_hookcall_monitoring(before, lambda *a: None))


def pytest_unconfigure(config):
    with open("calls.json", "w") as out:
        json.dump(CALLS, out)


@pytest.fixture
def a():
    return 1


@pytest.fixture
def b(a):
    return a + 1
"""

TESTS = """
import pytest

@pytest.mark.parametrize("n", range(5))
def test_plain(n):
    pass

def test_fixtures(a, b):
    pass

def test_fails():
    assert False
"""

PER_TEST = {"pytest_runtest_setup": 1, "pytest_runtest_makereport": 3}


@pytest.mark.parametrize("guard", ["on", "off"])
def test_a_test_costs_one_setup_hook_and_one_wrapper_per_phase(pytester, guard):
    pytester.makeconftest(COUNTING)
    pytester.makepyfile(test_budget=TESTS)
    result = pytester.runpytest_subprocess(f"--artifacts-guard={guard}", "-p", "no:randomly")
    result.assert_outcomes(passed=6, failed=1)
    calls = json.loads((pytester.path / "calls.json").read_text())
    per_test = {}
    for key, count in calls.items():
        hook = key.split(":")[1]
        per_test[hook] = per_test.get(hook, 0) + count / 7
    # Every hook called once a test or more (collection's per-item hooks included); the
    # session's hooks are called once or twice, i.e. less than once a test.
    per_test = {hook: n for hook, n in per_test.items() if n >= 1}
    assert per_test == PER_TEST, calls


DATACLASSES_MADE = """
import dataclasses
import json
import sys

import pytest

code = pytest.main(["-q", "-p", "no:randomly", *sys.argv[1:]])
made = sorted(
    f"{name}.{value.__qualname__}"
    for name, module in list(sys.modules.items())
    if name.startswith("artifact_manager")
    for value in vars(module).values()
    if isinstance(value, type)
    and value.__module__ == name
    and dataclasses.is_dataclass(value)
)
print("MADE", json.dumps(made))
print("IMPORTED", json.dumps(sorted(n for n in sys.modules if n.startswith("artifact_manager"))))
sys.exit(code)
"""

# Making a dataclass costs 0.5-1 ms on Python 3.11 (its methods are compiled from source), a
# NamedTuple ~0.1 ms, a plain class nothing: the plugin's internal state and records are the
# latter two, and the public records (``ArtifactConfig``, ``Layout``, ``Violation``,
# ``ArtifactRecord``, whose ``asdict``, ``replace`` and equality are part of the API or of
# the report's JSON) are imported only when a test first makes one.

#: Modules a session of plain tests has no use for (each costs ~0.25 ms or more to import).
NOT_IMPORTED = (
    "artifact_manager.config",
    "artifact_manager.layout",
    "artifact_manager.violations",
    "artifact_manager.plugin.records",
    "artifact_manager.reporting.schema",
    "artifact_manager.storage.atomic",
    "artifact_manager.storage.checksum",
    "artifact_manager.manager",
    # Asked for only where a collected module has a __baselines__ dir, or a test checks one.
    "artifact_manager.regression",
    "artifact_manager.regression.store",
    "artifact_manager.plugin.baseline_check",
    # The xdist controller's hooks: registered only when the session distributes (-n, --dist).
    "artifact_manager.plugin.xdist",
    # Test names, file listings and removal, the factory: once a test makes a dir or asks.
    "artifact_manager.naming",
    "artifact_manager.storage.cleanup",
    "artifact_manager.plugin.factory",
    # The locks, the retention rules and the trash: once a test claims a dir, or a tests root
    # to reap exists (this session's has none).
    "artifact_manager.storage.locks",
    "artifact_manager.storage.retention",
    "artifact_manager.storage.trash",
    # Layer 2's wrappers and tables: once a package they wrap (polars, pyarrow...) is imported.
    "artifact_manager.guard.writers",
    "artifact_manager.guard.libraries",
)


@pytest.mark.parametrize("guard", ["on", "off"])
def test_a_session_of_plain_tests_makes_no_dataclass_and_imports_no_library(pytester, guard):
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.run(sys.executable, "-c", DATACLASSES_MADE, f"--artifacts-guard={guard}")
    assert result.ret == 0, result.outlines
    [line] = [line for line in result.outlines if line.startswith("MADE ")]
    made = json.loads(line.removeprefix("MADE "))
    assert made == []
    [line] = [line for line in result.outlines if line.startswith("IMPORTED ")]
    imported = set(json.loads(line.removeprefix("IMPORTED ")))
    assert imported.isdisjoint(NOT_IMPORTED), sorted(imported.intersection(NOT_IMPORTED))
