"""The pytest11 entry point ``artifact_manager`` (``-p no:artifact_manager`` disables it).

Hooks only, in lifecycle order; each delegates to the plugin's modules.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from artifact_manager.plugin.baselines import (
    install_baselines,
    table_regression,
    uninstall_baselines,
)
from artifact_manager.plugin.fixtures import (
    artifact_config,
    artifact_manager,
    artifact_manager_factory,
    test_artifacts_dir,
)
from artifact_manager.plugin.guarding import (
    GUARD_HOOKS,
    GuardHooks,
    check_exemption_markers,
    install_watch_hooks,
    uninstall_guard_hooks,
)
from artifact_manager.plugin.options import add_options
from artifact_manager.plugin.report import attach
from artifact_manager.plugin.session import STATE_KEY, SessionState, state_of

__all__ = [
    "artifact_config",
    "artifact_manager",
    "artifact_manager_factory",
    "table_regression",
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
    config.addinivalue_line(
        "markers",
        "allow_production_writes(reason=...): exempt this test from the production guard "
        "(the reason is required)",
    )
    state = SessionState.from_config(config)
    state.guard.check_strict_available()
    state.check_strict_outputs(config)
    config.stash[STATE_KEY] = state
    if state.guard.active:
        config.pluginmanager.register(GuardHooks(state.guard), GUARD_HOOKS)
    if config.pluginmanager.hasplugin("xdist"):
        from artifact_manager.plugin.xdist import XdistHooks

        config.pluginmanager.register(XdistHooks(state), "artifact_manager.xdist")
    install_baselines(config)  # table_regression: its session state and hooks (baselines.py)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return state_of(config).guard.report_header()


def pytest_sessionstart(session: pytest.Session) -> None:
    state = state_of(session.config)
    state.guard.install()
    distributed = session.config.pluginmanager.getplugin("dsession") is not None
    if not state.is_worker:
        state.dirs.start_session()  # reap what earlier sessions left behind
        state.guard.start_watching("session" if distributed else "per-test")
        install_watch_hooks(session.config, state.guard, state.report)
    if not distributed:  # this process runs tests: a serial session or an xdist worker
        state.enforce_strict(session.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    uninstall_guard_hooks(config)
    uninstall_baselines(config)


# -- collection --------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    check_exemption_markers(items)


# -- running each test -------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # A plain tryfirst impl, not a wrapper: if starting fails (a lock held too long, a bad
    # marker) the setup fails inside every other plugin's setup wrapper, as they expect.
    state = state_of(item.config)
    state.lifecycle.start(item)
    state.guard.enter(item, "setup")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = state_of(item.config)
    if state.guard.active:
        violations = state.guard.after_phase(item, report)  # watcher, exemption, verdict
        if violations:
            state.report.note_violations(item.nodeid, violations)
    state.lifecycle.note(item, report)
    state.report.note_duration(item.nodeid, report.when, report.duration)
    if report.when == "teardown":
        state.guard.leave()
        with_files = state.settings.reports_files
        finished = state.lifecycle.finish(
            item, with_files=with_files or state.report.has_violations(item.nodeid)
        )
        state.report.add(item.nodeid, finished.outcome, finished.record)
        if finished.claimed:
            attach(item, report, finished, junitxml=bool(item.config.getoption("xmlpath", None)))
    return report


# -- reporting ---------------------------------------------------------------------------


@pytest.hookimpl(trylast=True)  # after pytest's own: fixtures cut short are torn down first
def pytest_sessionfinish(session: pytest.Session) -> None:
    state = state_of(session.config)
    if not state.is_worker:
        state.report.violations.extend(state.guard.stop_watching())
    state.finish(session.config)
    if not state.is_worker and state.report.violation_count and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED  # whatever the tests' outcomes


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    state = state_of(config)
    if not state.is_worker:
        state.report.write_summary(terminalreporter, verbose=config.get_verbosity() > 0)
