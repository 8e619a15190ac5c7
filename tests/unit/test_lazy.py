"""Packages that import their public names on first use still offer every one of them."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

LAZY_PACKAGES = ["artifact_manager", "artifact_manager.reporting", "artifact_manager.regression"]


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_public_name_resolves_and_is_listed(name):
    package = importlib.import_module(name)
    for public in package.__all__:
        assert getattr(package, public) is not None, public
        assert public in dir(package)
    with pytest.raises(AttributeError, match=f"module '{name}' has no attribute 'nothing'"):
        package.nothing  # noqa: B018


def test_loading_the_plugin_does_not_import_the_library():
    """What pytest imports at start-up for every session, also one no test of which uses the
    plugin: not the manager, its table writers, the HTML page or the table comparison."""
    code = (
        "import sys, artifact_manager.plugin; "
        "print(sorted(m for m in sys.modules if m in {"
        "'artifact_manager.manager', 'artifact_manager.storage.tables', "
        "'artifact_manager.reporting.page', 'artifact_manager.regression.compare'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_name_follows_its_module_when_that_is_imported_again():
    # pytester's in-process runs drop the modules a run imported; the next run imports them
    # again. The package must hand out the new module's class, not a stale one.
    import artifact_manager
    import artifact_manager.naming

    first = artifact_manager.nodeid_to_test_name
    saved = sys.modules.pop("artifact_manager.naming")
    try:
        fresh = artifact_manager.nodeid_to_test_name
        assert fresh is sys.modules["artifact_manager.naming"].nodeid_to_test_name
        assert fresh is not first
    finally:
        sys.modules["artifact_manager.naming"] = saved
    assert artifact_manager.nodeid_to_test_name is first
