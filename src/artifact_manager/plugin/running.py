"""Running each test: the plugin's two per-test hooks, bound to the session's state.

Registered at configure as one object (so no hook looks the state up in ``config.stash``).
A test costs one setup hook and one ``pytest_runtest_makereport`` wrapper per phase: the
guard arms each next phase from the previous phase's report, and the serial watcher's look
between tests is part of the setup hook (see :mod:`~artifact_manager.plugin.guarding`).
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from artifact_manager.plugin.lifecycle import Attempt
from artifact_manager.plugin.markers import is_exempt, marks_of
from artifact_manager.plugin.report import attach
from artifact_manager.plugin.session import SessionState

__all__ = ["RUN_HOOKS", "RunHooks"]

RUN_HOOKS = "artifact_manager.run"


class RunHooks:
    """Start, watch and finish each test attempt (see :mod:`.lifecycle` and :mod:`.guarding`).

    A process runs one test at a time: the running attempt and its exemption are kept here
    from its setup on, so its phases look nothing up (an item whose setup this did not start,
    e.g. one reported by another plugin, is looked up).
    """

    def __init__(self, state: SessionState, *, junitxml: bool) -> None:
        self._state = state
        self._junitxml = junitxml
        self._guarded = state.guard.active
        self._reports_files = state.settings.reports_files
        self._item: pytest.Item | None = None
        self._attempt: Attempt | None = None
        self._exempt = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        # A plain tryfirst impl, not a wrapper: if starting fails (a lock held too long, a bad
        # marker) the setup fails inside every other plugin's setup wrapper, as they expect.
        state = self._state
        self._item = None
        guarded = self._guarded
        if guarded:
            found = state.guard.between_tests()  # serial: what changed since the last test
            if found:
                state.report.violations.extend(found)
        exempt, marked = marks_of(item)
        attempt = state.lifecycle.start(item, marked, exempt)
        exempt = exempt and guarded
        self._item, self._attempt, self._exempt = item, attempt, exempt
        if guarded:
            state.guard.enter(attempt.nodeid, "setup", exempt)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        state = self._state
        if item is self._item:
            attempt, exempt = self._attempt, self._exempt
        else:
            attempt, exempt = state.lifecycle.attempt_of(item), is_exempt(item)
        if self._guarded:
            # The watcher, the exemption, the verdict; then the next phase is armed.
            violations = state.guard.after_phase(item, report, exempt)
            if violations:
                state.report.note_violations(item.nodeid, violations)
        if attempt is not None:
            state.lifecycle.note(attempt, report)
        if report.when == "teardown":
            if item is self._item:
                self._item = self._attempt = None
            nodeid = item.nodeid
            with_files = self._reports_files
            if self._guarded:
                state.guard.leave(nodeid)
                with_files = with_files or state.report.has_violations(nodeid)
            finished = state.lifecycle.finish(item, with_files=with_files)
            outcome = finished.outcome
            if state.dirs.errors:  # -W error made a warning about its dir an error
                _fail_teardown(report, state.dirs.take_errors())
                outcome = "failed"  # as pytest counts it (an error at teardown)
                if finished.record is not None:
                    finished.record.outcome = outcome
            state.report.add(nodeid, outcome, finished.record, finished.duration)
            if finished.claimed:
                attach(item, report, finished, junitxml=self._junitxml)
        return report


def _fail_teardown(report: pytest.TestReport, errors: list[str]) -> None:
    """Make ``errors`` (warnings that ``-W error`` raised while the test's dirs were kept or
    removed) an error of the test's teardown, as pytest makes a warning raised there."""
    text = "\n".join(errors)
    if report.passed or report.skipped:
        report.outcome = "failed"
        report.longrepr = text
    else:
        report.sections.append(("artifact manager: warnings made errors by -W error", text))
