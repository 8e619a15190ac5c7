"""The plugin's modules load with Python's importer even where pytest marks the package for
assertion rewriting (an installed plugin; see ``plugin/plain_import.py``), and the users'
modules are rewritten as before."""

from __future__ import annotations

# pytest marks an installed plugin's package for rewriting before it loads the plugin. The
# editable install of the dev environment is not marked under pytest < 9.2, so the inner
# session marks it the public way (register_assert_rewrite) before loading the plugin itself.
CONFTEST = """
import pytest

pytest.register_assert_rewrite("artifact_manager", "helpers")
pytest_plugins = ["artifact_manager.plugin"]
"""

TESTS = """
import importlib
import sys

import helpers


def loader(name):
    return type(sys.modules[name].__spec__.loader).__name__


def test_loaders():
    # Imported after the plugin loaded: the finder also sees the lazy imports.
    importlib.import_module("artifact_manager.storage.tables")
    assert loader("artifact_manager.plugin.options") == "SourceFileLoader"
    assert loader("artifact_manager.guard.audit") == "SourceFileLoader"
    assert loader("artifact_manager.storage.tables") == "SourceFileLoader"
    # Imported before the finder existed: rewritten as pytest marked them.
    assert loader("artifact_manager") == "AssertionRewritingHook"
    assert loader("artifact_manager.plugin") == "AssertionRewritingHook"
    # Other marked modules and the test modules are pytest's, as before.
    assert loader("helpers") == "AssertionRewritingHook"
    assert loader(__name__) == "AssertionRewritingHook"


def test_a_users_assert_is_still_rewritten():
    assert [1, 2] == [1, 3]


def test_a_helpers_assert_is_still_rewritten():
    helpers.same([1, 2], [1, 4])
"""

HELPERS = """
def same(left, right):
    assert left == right
"""


def test_the_plugins_modules_skip_rewriting_and_the_users_do_not(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_loading=TESTS, helpers=HELPERS)
    # A fresh process: the plugin is imported only after the inner conftest marked it.
    result = pytester.runpytest_subprocess("-p", "no:artifact_manager", "-W", "error", "-rf")
    result.assert_outcomes(passed=1, failed=2)
    # pytest's introspection of both failing asserts: they were rewritten. (One call each:
    # pytest-randomly, where installed, runs the two tests in either order.)
    result.stdout.fnmatch_lines(["*At index 1 diff: 2 != 3*"])
    result.stdout.fnmatch_lines(["*At index 1 diff: 2 != 4*"])
    result.stdout.no_fnmatch_line("*PytestAssertRewriteWarning*")
