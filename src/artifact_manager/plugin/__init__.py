"""The pytest11 entry point ``artifact_manager`` (``-p no:artifact_manager`` disables it).

Hooks only, in lifecycle order; each delegates to the plugin's modules.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from artifact_manager.plugin import plain_import

# Before the plugin's other modules: they then load with Python's importer, not pytest's
# rewriting hook (see plain_import.py; pyproject.toml lets the imports below follow).
plain_import.install()

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
from artifact_manager.plugin.guarding import install_watch_hooks, uninstall_guard_hooks
from artifact_manager.plugin.markers import note_markers, register_markers
from artifact_manager.plugin.options import add_options
from artifact_manager.plugin.running import RUN_HOOKS, RunHooks
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
    register_markers(config)
    state = SessionState.from_config(config)
    state.guard.check_strict_available()
    state.check_strict_outputs(config)
    config.stash[STATE_KEY] = state
    junitxml = bool(config.getoption("xmlpath", None))
    config.pluginmanager.register(RunHooks(state, junitxml=junitxml), RUN_HOOKS)
    if config.pluginmanager.hasplugin("xdist") and config.getoption("dist", "no") != "no":
        from artifact_manager.plugin.xdist import XdistHooks  # the controller's hooks

        config.pluginmanager.register(XdistHooks(state), "artifact_manager.xdist")
    install_baselines(config)  # table_regression: its session state and hooks (baselines.py)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return state_of(config).guard.report_header()


def pytest_sessionstart(session: pytest.Session) -> None:
    state = state_of(session.config)
    state.guard.install()
    distributed = session.config.pluginmanager.getplugin("dsession") is not None
    if not state.is_worker:
        # reap what earlier sessions left behind; problems go to the warnings summary (no
        # test's warnings catch them)
        for problem in state.dirs.start_session():
            try:
                session.config.issue_config_time_warning(pytest.PytestWarning(problem), 2)
            except pytest.PytestWarning as error:  # -W error: the session fails with it
                state.report.errors.append(f"{type(error).__name__}: {error}")
        state.guard.start_watching("session" if distributed else "per-test")
        install_watch_hooks(session.config, state.guard, state.report)
    if not distributed:  # this process runs tests: a serial session or an xdist worker
        state.enforce_strict(session.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    run_hooks = config.pluginmanager.get_plugin(RUN_HOOKS)
    if run_hooks is not None:
        config.pluginmanager.unregister(run_hooks)
    uninstall_guard_hooks(config)
    uninstall_baselines(config)


# -- collection --------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    note_markers(items)  # and a missing exemption reason is a usage error


# -- running each test: plugin/running.py (RunHooks, registered at configure) -------------


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    """After the last test: the guard, armed between tests since, is disarmed (what the other
    plugins write at session end is theirs)."""
    try:
        return (yield)
    finally:
        state = state_of(session.config)
        for violation in state.guard.end_of_tests():
            if violation.phase == "session":
                state.report.violations.append(violation)
            else:  # a test the session stopped in: its phase never got its verdict
                state.report.note_violations(violation.test, [violation])


# -- reporting ---------------------------------------------------------------------------


@pytest.hookimpl(trylast=True)  # after pytest's own: fixtures cut short are torn down first
def pytest_sessionfinish(session: pytest.Session) -> None:
    state = state_of(session.config)
    if not state.is_worker:
        state.report.violations.extend(state.guard.stop_watching())
    state.finish(session.config)
    failing = state.report.violation_count or state.report.errors
    if not state.is_worker and failing and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED  # whatever the tests' outcomes


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    state = state_of(config)
    if not state.is_worker:
        state.report.write_summary(terminalreporter, verbose=config.get_verbosity() > 0)
