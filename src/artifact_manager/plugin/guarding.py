"""The guard in a pytest session: arm around each test, fail the tests that wrote production.

Precedence: ``@pytest.mark.allow_production_writes(reason=...)`` (exempts one test) >
``--artifacts-guard`` > ini ``artifacts_guard`` > default ``on``.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Literal

import pytest

from artifact_manager.errors import ProductionWriteError
from artifact_manager.guard import audit
from artifact_manager.guard.audit import Checker
from artifact_manager.guard.detect import Watcher, make_watcher
from artifact_manager.guard.policy import GuardPolicy

if TYPE_CHECKING:
    from artifact_manager.guard.strict import Mechanism
    from artifact_manager.plugin.report import ArtifactReport
    from artifact_manager.violations import Violation

# guard.strict (ctypes, Landlock, mount namespaces) and guard.lazy_writers are imported
# where they are used: a session that does not need them does not pay for their import.

__all__ = [
    "GUARD_MODES",
    "WATCH_HOOKS",
    "ControllerWatchHooks",
    "GuardMode",
    "GuardSession",
    "fixture_running",
    "install_watch_hooks",
    "uninstall_guard_hooks",
]

GuardMode = Literal["off", "on", "strict"]
#: "per-test" (serial: changes are pinned on the test that just ran) or "session" (xdist
#: controller: changes are blamed on the tests running at the time).
Attribution = Literal["per-test", "session"]
GUARD_MODES: tuple[GuardMode, ...] = ("off", "on", "strict")
_GRACE = 1.0  # seconds a finished test stays a suspect (see GuardSession.recently_finished)


def expects_guard(item: pytest.Item) -> bool:
    """True for ``@pytest.mark.xfail(raises=ProductionWriteError)`` (alone or in a tuple)."""
    marker = item.get_closest_marker("xfail")
    raises = marker.kwargs.get("raises") if marker is not None else None
    expected = raises if isinstance(raises, tuple) else (raises,)
    return ProductionWriteError in expected


def fixture_running() -> tuple[str, str]:
    """The fixture whose setup or teardown is running in this thread, as (``'name'
    (scope-scoped)``, ``"setup"`` or ``"teardown"``), or ``("", "")``.

    Asked only when a violation is recorded, so no hook runs around every fixture of every
    test: the innermost of these frames on the stack names it.

    - Setup: a ``pytest_fixture_setup`` hook implementation (pytest's own, or any
      plugin's); the hook's ``fixturedef`` argument is its local of that name.
    - Teardown: the frame that runs a fixture's finalizers (its code after ``yield``, those
      it added with ``request.addfinalizer``), whose ``self`` is the fixture definition: a
      ``finish`` method (pytest 8.0-9.2), or one whose code calls the public
      ``pytest_fixture_post_finalizer`` hook (pytest 8 calls it from ``finish``; 9.2 from a
      finalizer). (The hook itself runs after the finalizers, so it is not on the stack
      while they write.) Found by shape, not by importing pytest's internals: if a pytest
      changes it, a teardown's violation names the test only
      (``test_violations_in_a_fixture_teardown_name_the_fixture`` says so).

    A thread a fixture started is not attributed to it (its stack does not lead back).
    """
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "pytest_fixture_setup":
            found = _described(frame.f_locals.get("fixturedef"))
            if found:
                return found, "setup"
        elif code.co_name == "finish" or _POST_FINALIZER in code.co_names:
            found = _described(frame.f_locals.get("self"))
            if found:
                return found, "teardown"
        frame = frame.f_back
    return "", ""


_POST_FINALIZER = "pytest_fixture_post_finalizer"


def _described(fixturedef: object) -> str:
    """``'name' (scope-scoped)`` of a fixture definition, ``""`` for anything else."""
    name = getattr(fixturedef, "argname", None)
    if not isinstance(name, str):
        return ""
    return f"{name!r} ({getattr(fixturedef, 'scope', '?')}-scoped)"


class GuardSession:
    """The guard of one session (or one xdist worker)."""

    def __init__(self, mode: GuardMode, policy: GuardPolicy) -> None:
        self.mode = mode
        self.policy = policy
        self.checker = Checker(policy, locate_fixture=fixture_running)
        self.watcher = Watcher()
        self.attribution: Attribution = "per-test"
        self.running: dict[str, None] = {}
        #: (nodeid, when) of tests that finished lately: the controller hears of a worker's
        #: test ending a little after it ended, so a change is also blamed on these.
        self.recently_finished: deque[tuple[str, float]] = deque()
        self.exempt: set[str] = set()
        #: Strict mode's kernel mechanism, as found at configure time.
        self.strict_mechanism: Mechanism | None = None
        #: ``--setup-only``/``--setup-plan``: a passed setup is followed by the teardown.
        self.setup_only = False

    def install(self) -> None:
        """At session start (not at configure: ``pytest --help`` installs nothing): the audit
        hook and the layer-2 wrappers, in every process that runs tests."""
        if self.active:
            from artifact_manager.guard import lazy_writers, sqlite_authorizer

            lazy_writers.install()  # the wrappers' tables load with the first wrapped package
            sqlite_authorizer.install()  # sqlite3.connect sets an authorizer (ATTACH)
            # The audit hook itself is installed when the first test arms it (audit.arm):
            # collection's imports and opens do not go through it.

    def ignore_this_thread(self) -> None:
        """For the plugin's own threads (the trash): their work is no test's."""
        if self.active:
            audit.ignore_this_thread()

    @classmethod
    def build(
        cls,
        mode: GuardMode,
        data_root: Path,
        protect: Sequence[Path],
        allow: Sequence[Path],
    ) -> GuardSession:
        return cls(mode, GuardPolicy.build([data_root], protect, allow))

    @property
    def active(self) -> bool:
        return self.mode != "off"

    # -- strict mode ----------------------------------------------------------------------

    def check_strict_available(self) -> None:
        """At configure time: strict mode with no kernel mechanism stops the session, loudly;
        else the mechanism is noted for the report header."""
        if self.mode != "strict":
            return
        from artifact_manager.guard import strict

        self.strict_mechanism = strict.available()
        if self.strict_mechanism is None:
            raise pytest.UsageError(strict.UNAVAILABLE)

    def report_header(self) -> list[str]:
        if self.mode != "strict" or self.strict_mechanism is None:
            return []
        from artifact_manager.guard import strict

        return [f"artifact-manager strict guard: {strict.DESCRIPTIONS[self.strict_mechanism]}"]

    def enforce_strict(self, eval_dirs: Sequence[Path], keep_writable: Sequence[Path]) -> None:
        """Restrict this test process for good (serial session or xdist worker).

        ``eval_dirs`` get their ``tests/`` tree created first; ``keep_writable`` files are
        created first so they can still be written (they become rules of their own).
        """
        if self.mode != "strict":
            return
        from artifact_manager.guard import strict

        for eval_dir in eval_dirs:
            strict.prepare_tests_tree(eval_dir)
        for path in keep_writable:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        try:
            strict.enforce(self.policy)
        except strict.StrictUnavailable as error:
            raise pytest.UsageError(str(error)) from None

    # -- detection (layer 3) ------------------------------------------------------------

    def start_watching(self, attribution: Attribution) -> None:
        """Watch the protected trees (serial sessions and the xdist controller only)."""
        if not self.active:
            return
        self.attribution = attribution
        self.watcher = make_watcher(list(self.policy.roots), self.policy.is_protected)

    def stop_watching(self) -> list[Violation]:
        """Last look, then stop; returns session-level violations."""
        found = self.session_changes()
        self.watcher.close()
        self.watcher = Watcher()
        return found

    def changes_of(self, item: pytest.Item, when: str, exempt: bool) -> None:
        """Serial: what changed during phase ``when`` of ``item`` becomes its violations.

        A watcher that is cheap to ask (inotify: one non-blocking read) is asked after every
        phase, so a change is pinned on its phase. An expensive one (the tree diff) is asked
        once, after the teardown, and its changes happened "during" the test (phase ``test``).
        """
        if not self.watcher.cheap:
            if when != "teardown":
                return
            when = "test"
        changes = self.watcher.changes()
        if not changes or exempt:
            return
        from artifact_manager.violations import Violation

        for change in changes:
            self.checker.violations.append(
                Violation(item.nodeid, when, change.path, change.kind, "detected")
            )

    def session_changes(self) -> list[Violation]:
        """Changes no single test can be blamed for, as session-level violations."""
        changes = self.watcher.changes()
        if not changes:
            return []
        self._forget_finished()
        suspects = list(self.running) + [
            n for n, _ in self.recently_finished if n not in self.running
        ]
        if any(s in self.exempt for s in suspects):
            return []
        from artifact_manager.violations import Violation

        if suspects:
            who = "one of the tests running then: " + ", ".join(suspects)
        else:
            who = "no test (between tests, or outside the session)"
        return [Violation(who, "session", c.path, c.kind, "detected") for c in changes]

    def between_tests(self) -> list[Violation]:
        """As the next test starts: what was written since the last test's teardown, as
        session-level violations (serial: also what the watcher saw change)."""
        # What was stopped since the last test's teardown (a thread it left running)...
        found = self.checker.take(phase="session") if self.checker.violations else []
        # ...and what changed (a guard that is off, or an xdist worker, sees nothing).
        if self.attribution == "per-test" and self.watcher.pending():
            found.extend(self.session_changes())
        return found

    def test_started(self, nodeid: str) -> list[Violation]:
        """xdist controller: a worker started ``nodeid``."""
        found = self.session_changes()
        self.running[nodeid] = None
        return found

    def test_finished(self, nodeid: str) -> list[Violation]:
        """xdist controller: a worker finished ``nodeid``."""
        found = self.session_changes()
        self.running.pop(nodeid, None)
        self.recently_finished.append((nodeid, time.monotonic()))
        self._forget_finished()
        return found

    def _forget_finished(self) -> None:
        horizon = time.monotonic() - _GRACE
        finished = self.recently_finished
        while finished and finished[0][1] < horizon:
            finished.popleft()

    # -- around each phase of a test ---------------------------------------------------

    def enter(self, nodeid: str, phase: str, exempt: bool) -> None:
        """Arm the guard for ``phase`` of test ``nodeid`` (disarm it for an exempt test)."""
        if exempt or self.mode == "off":
            audit.disarm()
            return
        self.checker.enter(nodeid, phase)
        audit.arm(self.checker)

    def leave(self, nodeid: str) -> None:
        """``nodeid``'s teardown ended. Until the next test starts, a write is no test's (a
        thread the test left running): it is stopped all the same, and reported for the
        session, not blamed on the next test (:meth:`between_tests`, :meth:`end_of_tests`)."""
        if self.active:
            self.checker.enter(f"no test (between tests, after {nodeid})", "session")
            audit.arm(self.checker)

    def end_of_tests(self) -> list[Violation]:
        """The run loop ended: disarm; the violations not judged yet. Those recorded since
        the last test, and those of a test the session stopped in (``pytest.exit``, Ctrl-C:
        its phase never got its verdict) — never dropped."""
        audit.disarm()
        return self.checker.take() if self.checker.violations else []

    def after_phase(
        self, item: pytest.Item, report: pytest.TestReport, exempt: bool
    ) -> list[Violation]:
        """A phase of ``item`` ended (its report is made, not yet logged): what the watcher
        saw (serial), the exemption marked for the xdist controller, and the verdict; then
        the guard is armed for the next phase.

        The next phase is armed here, not in a ``pytest_runtest_call``/``teardown`` hook of
        its own (two hook calls less per test): the call if the setup passed (pytest runs it
        then, unless ``--setup-only``), else the teardown. So a write by another plugin's
        ``pytest_runtest_logreport`` is charged to the phase that follows it.
        """
        if exempt or self.checker.violations or self.watcher.pending():
            violations = self._after_eventful_phase(item, report, exempt)
        else:
            violations = []  # the common case: nothing seen, nothing recorded
        when = report.when
        if when == "setup":
            passed = report.outcome == "passed"
            next_phase = "call" if passed and not self.setup_only else "teardown"
        elif when == "call":
            next_phase = "teardown"
        else:
            return violations
        self.enter(item.nodeid, next_phase, exempt)
        return violations

    def _after_eventful_phase(
        self, item: pytest.Item, report: pytest.TestReport, exempt: bool
    ) -> list[Violation]:
        """:meth:`after_phase` when the watcher has news, a violation was recorded or the
        test is exempt: the watcher's findings, the exemption noted, the verdict."""
        if self.attribution == "per-test":
            self.changes_of(item, report.when, exempt)  # what the watcher saw in this phase
        if exempt:
            report.artifact_manager_exempt = True  # type: ignore[attr-defined]  # for xdist
        return self.judge(item, report) if self.checker.violations else []

    def judge(self, item: pytest.Item, report: pytest.TestReport) -> list[Violation]:
        """Fail ``report`` if its phase of ``item`` saw violations; return them.

        One exception: a test marked ``xfail(raises=ProductionWriteError)`` whose writes were
        all stopped before they happened stays an expected failure (it demonstrates the
        guard; nothing changed). A change that happened (detected) always fails.
        """
        # The teardown takes whatever is left: a change seen "during" the test, or a write a
        # thread of the call made after the call's report.
        phase = None if report.when == "teardown" else report.when
        violations = self.checker.take(item.nodeid, phase)
        if not violations:
            return []
        if (
            getattr(report, "wasxfail", None) is not None
            and expects_guard(item)
            and all(v.layer != "detected" for v in violations)
        ):
            lines = "\n".join(f"  {v.line()}" for v in violations)
            report.sections.append(("production guard (expected)", lines))
            return []
        from artifact_manager.violations import REMEDY

        text = "production guard: this test changed (or tried to change) protected paths\n"
        text += "\n".join(f"  {v.line()}" for v in violations)
        text += f"\nremedy: {REMEDY}"
        if report.failed:
            report.sections.append(("production guard", text))
        else:
            report.outcome = "failed"
            report.longrepr = text
        if hasattr(report, "wasxfail"):
            del report.wasxfail  # a guard violation is never an expected failure
        return violations


WATCH_HOOKS = "artifact_manager.guard.watch"


class ControllerWatchHooks:
    """On the xdist controller: the watcher's findings are blamed on the tests the workers
    run at the time, as they report them starting and finishing. (A serial session looks
    as each test starts, in the plugin's setup hook: no hook of its own.)"""

    def __init__(self, guard: GuardSession, report: ArtifactReport) -> None:
        self._guard = guard
        self._report = report

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        found = self._guard.test_started(nodeid)
        if found:
            self._report.violations.extend(found)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if getattr(report, "artifact_manager_exempt", False):
            self._guard.exempt.add(report.nodeid)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        found = self._guard.test_finished(nodeid)
        if found:
            self._report.violations.extend(found)


def install_watch_hooks(config: pytest.Config, guard: GuardSession, report: ArtifactReport) -> None:
    """At session start, after :meth:`GuardSession.start_watching`, on the xdist controller:
    the hooks that blame the watcher's findings on the tests running at the time."""
    if guard.active and guard.attribution == "session":
        config.pluginmanager.register(ControllerWatchHooks(guard, report), WATCH_HOOKS)


def uninstall_guard_hooks(config: pytest.Config) -> None:
    hooks = config.pluginmanager.get_plugin(WATCH_HOOKS)
    if hooks is not None:
        config.pluginmanager.unregister(hooks)
