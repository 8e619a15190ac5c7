"""The pytest11 entry point ``artifact_manager`` (``-p no:artifact_manager`` disables it).

Hooks only, in lifecycle order; each delegates to the plugin's modules.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from artifact_manager.plugin.fixtures import (
    artifact_config,
    artifact_manager,
    artifact_manager_factory,
    test_artifacts_dir,
)
from artifact_manager.plugin.options import add_options
from artifact_manager.plugin.session import STATE_KEY, SessionState, state_of

__all__ = [
    "artifact_config",
    "artifact_manager",
    "artifact_manager_factory",
    "test_artifacts_dir",
]

# -- initialization ----------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "artifacts(source=..., build=..., base_model=..., coverage=...): "
        "artifact layout for this test (the mode stays test)",
    )
    state = SessionState.from_config(config)
    config.stash[STATE_KEY] = state
    if config.pluginmanager.hasplugin("xdist"):
        from artifact_manager.plugin.xdist import XdistHooks

        config.pluginmanager.register(XdistHooks(state), "artifact_manager.xdist")


# -- running each test -------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # A plain tryfirst impl, not a wrapper: if starting fails (a lock held too long, a bad
    # marker) the setup fails inside every other plugin's setup wrapper, as they expect.
    state_of(item.config).lifecycle.start(item)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = state_of(item.config)
    state.lifecycle.note(item, report)
    if report.when == "teardown":
        with_files = state.settings.report_path is not None
        outcome, record = state.lifecycle.finish(item, with_files=with_files)
        state.report.add(item.nodeid, outcome, record)
    return report


# -- reporting ---------------------------------------------------------------------------


def pytest_sessionfinish(session: pytest.Session) -> None:
    state_of(session.config).finish(session.config)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    state = state_of(config)
    if not state.is_worker:
        state.report.write_summary(terminalreporter, verbose=config.get_verbosity() > 0)
