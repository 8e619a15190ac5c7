"""Table baselines in a session: the ``table_regression`` fixture and what it reports.

The comparison and the files are core (:mod:`artifact_manager.regression`); this module
decides when a baseline is written and when the run was complete enough to call a baseline
unused:

- ``check`` fails on a mismatch or a missing baseline (the actual table goes into the test's
  artifact dir); ``--update-baselines`` writes the baselines that are missing or differ, and
  ``=all`` every checked one; the test then passes and the summary lists each write.
- Unused baselines are judged only after a full run: no ``-k``, ``-m``, ``--deselect``,
  ``--lf``, ``--sw``, ``--count``, node-id arguments, nothing deselected or dropped by a
  plugin, no collection error, every collected test finished, every xdist worker reported
  back. Then the baselines under ``__baselines__/<module stem>/`` of each collected module
  that no test checked, and that no skipped, failed or unfinished test may own, are listed,
  and deleted with ``--prune-baselines``.

Workers record what they checked and collected; the controller merges it and judges.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from artifact_manager.paths import BASELINES_DIR
from artifact_manager.plugin.options import BaselineSettings

if TYPE_CHECKING:
    from artifact_manager.plugin.baseline_check import TableRegression

__all__ = [
    "BASELINES_KEY",
    "BaselineSession",
    "display",
    "install_baselines",
    "table_regression",
    "uninstall_baselines",
]

PAYLOAD_KEY = "artifact_manager_baselines"
HOOKS_NAME = "artifact_manager.baselines"
ATTEMPT_HOOKS_NAME = "artifact_manager.baselines.attempts"
XDIST_HOOKS_NAME = "artifact_manager.baselines.xdist"
_OUTCOME_RANK = {"passed": 0, "rerun": 1, "skipped": 2, "failed": 3}


class BaselineSession:
    """What one session (or xdist worker) learnt about table baselines."""

    def __init__(self, settings: BaselineSettings, is_worker: bool = False) -> None:
        self.settings = settings
        self.is_worker = is_worker
        #: Baselines checked (absolute paths), written (path -> why), judged modules (paths).
        self.checked: set[str] = set()
        self.written: dict[str, str] = {}
        self.modules: set[str] = set()
        #: Node ids of the final collection; outcome of each finished test's last attempt.
        self.collected: set[str] = set()
        self.outcomes: dict[str, str] = {}
        #: Whether each test's outcome is tracked (:class:`BaselineAttemptHooks`): on the
        #: xdist controller, and in a serial session whose modules had baselines when
        #: collected (else no baseline can be unused, and no test pays for the tracking).
        self.tracking = False
        #: Why this run cannot judge unused baselines (empty: it can).
        self.partial: list[str] = []
        self.unused: list[Path] = []
        self.pruned: list[Path] = []

    def not_full(self, reason: str) -> None:
        if reason not in self.partial:
            self.partial.append(reason)

    # -- xdist round trip (plain values) -------------------------------------------------

    def payload(self) -> dict[str, Any]:
        return {
            "checked": sorted(self.checked),
            "written": self.written,
            "modules": sorted(self.modules),
            "collected": sorted(self.collected),
            "partial": list(self.partial),
        }

    def merge(self, payload: dict[str, Any]) -> None:
        self.checked.update(payload.get("checked", []))
        self.written.update(payload.get("written", {}))
        self.modules.update(payload.get("modules", []))
        self.collected.update(payload.get("collected", []))
        for reason in payload.get("partial", []):
            self.not_full(reason)

    # -- the end of the run ----------------------------------------------------------------

    def judge(self, config: pytest.Config) -> None:
        """Controller or serial session: list (and prune) unused baselines after a full run."""
        if not self.tracking:
            return  # no baselines at collection: none can be unused
        self._check_arguments(config)
        unfinished = self.collected - set(self.outcomes)
        if unfinished:
            self.not_full(
                f"{len(unfinished)} collected test(s) did not run to the end "
                "(-x, --maxfail, an interruption or a crash)"
            )
        if self.partial:
            return
        from artifact_manager.regression import store

        dirs = [store.baseline_dir(Path(m)) for m in self.modules]
        if not any(store.list_baselines(d) for d in dirs):
            return  # no baselines at all (most suites): no test name is needed
        from artifact_manager.naming import nodeid_to_test_name

        owners = {nodeid_to_test_name(n): self.outcomes[n] for n in self.collected}
        self.unused = store.find_unused(dirs, self.checked, owners)
        if self.settings.prune:
            self.pruned = store.prune(self.unused)
            gone = set(self.pruned)
            self.unused = [p for p in self.unused if p not in gone]

    def _check_arguments(self, config: pytest.Config) -> None:
        option = config.option
        chosen = [
            ("-k", getattr(option, "keyword", "")),
            ("-m", getattr(option, "markexpr", "")),
            ("--deselect", getattr(option, "deselect", None)),
            ("--lf", getattr(option, "lf", False)),
            ("--sw", getattr(option, "stepwise", False)),
            ("--sw-skip", getattr(option, "stepwise_skip", False)),
        ]
        for flag, value in chosen:
            if value:
                self.not_full(f"{flag} selects part of the tests")
        if any("::" in str(arg) for arg in config.args):
            self.not_full("node ids given on the command line")
        if (getattr(option, "count", None) or 1) > 1:  # pytest-repeat: other node ids
            self.not_full("--count repeats each test under other node ids")

    def note_attempt(self, report: pytest.TestReport, attempts: dict[str, str]) -> None:
        """Track the outcome of each test's current attempt; its teardown ends the attempt."""
        nodeid = report.nodeid
        if report.when == "setup":
            attempts[nodeid] = report.outcome
        else:
            previous = attempts.get(nodeid, "passed")
            if _OUTCOME_RANK.get(report.outcome, 3) > _OUTCOME_RANK.get(previous, 3):
                attempts[nodeid] = report.outcome
        if report.when == "teardown":
            self.outcomes[nodeid] = attempts.pop(nodeid, report.outcome)

    # -- output ----------------------------------------------------------------------------

    def summary_lines(self, base: Path, verbose: bool) -> list[str]:
        def shown(path: str | Path) -> str:
            return display(Path(path), base)

        lines: list[str] = []
        if self.written:
            mode = "--update-baselines" + ("=all" if self.settings.update == "all" else "")
            lines.append(f"wrote {len(self.written)} table baseline(s) ({mode}):")
            lines.extend(f"  {shown(p)}  ({why})" for p, why in sorted(self.written.items()))
        if self.pruned:
            lines.append(f"pruned {len(self.pruned)} unused table baseline(s):")
            lines.extend(f"  {shown(p)}" for p in self.pruned)
        if self.unused:
            lines.append(
                f"{len(self.unused)} unused table baseline(s), checked by no test of this "
                "full run (delete them with --prune-baselines):"
            )
            lines.extend(f"  {shown(p)}" for p in self.unused)
        if self.partial and (self.settings.prune or verbose):
            lines.append(
                f"unused table baselines not judged (not a full run: {'; '.join(self.partial)})"
            )
        return lines


BASELINES_KEY = pytest.StashKey[BaselineSession]()


def display(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


class BaselineHooks:
    """Collection and run hooks of table baselines (registered in ``pytest_configure``)."""

    def __init__(self, session: BaselineSession) -> None:
        self._session = session
        self._modules: dict[str, str] = {}  # collector node id -> module path, until reported
        self._produced: set[str] = set()

    # -- collection ------------------------------------------------------------------------

    def pytest_collectstart(self, collector: pytest.Collector) -> None:
        if isinstance(collector, pytest.Module):
            self._modules[collector.nodeid] = str(collector.path)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._session.not_full("collection errors")
        path = self._modules.pop(report.nodeid, None)
        if path is not None and report.passed:  # a module skipped as a whole is not judged
            self._session.modules.add(path)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_collection_modifyitems(
        self, items: list[pytest.Item]
    ) -> Generator[None, None, None]:
        # What collection produced, before any plugin reorders, deselects or drops: noted
        # once per session here, not per item (pytest_itemcollected is one hook call a test).
        self._produced.update(item.nodeid for item in items)
        return (yield)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        if items:
            self._session.not_full(f"{len(items)} test(s) deselected")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        collected = {item.nodeid for item in session.items}
        if self._produced - collected:
            self._session.not_full("a plugin dropped collected tests")
        self._session.collected.update(collected)
        state = self._session
        if not state.is_worker and _any_baselines(state.modules):
            track_attempts(session.config)

    # -- running ---------------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if session.config.pluginmanager.getplugin("dsession") is not None:
            track_attempts(session.config)  # the xdist controller: workers' baselines unknown

    # -- the end ---------------------------------------------------------------------------

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        state = self._session
        if state.is_worker:
            workeroutput = getattr(session.config, "workeroutput", None)
            if workeroutput is not None:
                workeroutput[PAYLOAD_KEY] = state.payload()
            return
        state.judge(session.config)

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, config: pytest.Config
    ) -> None:
        if self._session.is_worker:
            return
        base = Path(config.invocation_params.dir)
        lines = self._session.summary_lines(base, verbose=config.get_verbosity() > 0)
        if lines:
            terminalreporter.write_sep("-", "table baselines")
            for line in lines:
                terminalreporter.write_line(line)


class BaselineAttemptHooks:
    """Each test's outcome, for judging unused baselines (see
    :attr:`BaselineSession.tracking`)."""

    def __init__(self, session: BaselineSession) -> None:
        self._session = session
        self._attempts: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._session.note_attempt(report, self._attempts)


def track_attempts(config: pytest.Config) -> None:
    """Track each test's outcome from now on (once per session)."""
    session = config.stash[BASELINES_KEY]
    if not session.tracking:
        session.tracking = True
        config.pluginmanager.register(BaselineAttemptHooks(session), ATTEMPT_HOOKS_NAME)


class BaselineXdistHooks:
    """Controller side under xdist: merge what each worker checked and collected."""

    def __init__(self, session: BaselineSession) -> None:
        self._session = session

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        payload = getattr(node, "workeroutput", {}).get(PAYLOAD_KEY)
        if payload is None or error:
            self._session.not_full("an xdist worker went down without reporting")
        if payload is not None:
            self._session.merge(payload)


def install_baselines(config: pytest.Config) -> None:
    """Make the session's baseline state and register its hooks."""
    session = BaselineSession(BaselineSettings.from_config(config), hasattr(config, "workerinput"))
    config.stash[BASELINES_KEY] = session
    config.pluginmanager.register(BaselineHooks(session), HOOKS_NAME)
    if config.pluginmanager.hasplugin("xdist") and not session.is_worker:
        config.pluginmanager.register(BaselineXdistHooks(session), XDIST_HOOKS_NAME)


def uninstall_baselines(config: pytest.Config) -> None:
    for name in (HOOKS_NAME, ATTEMPT_HOOKS_NAME, XDIST_HOOKS_NAME):
        hooks = config.pluginmanager.get_plugin(name)
        if hooks is not None:
            config.pluginmanager.unregister(hooks)


def _any_baselines(modules: set[str]) -> bool:
    """Whether a collected module has table baselines (the store is imported only then: most
    suites have none)."""
    dirs = [Path(m).parent / BASELINES_DIR for m in modules]
    if not any(d.is_dir() for d in dirs):
        return False
    from artifact_manager.regression import store

    return any(store.list_baselines(store.baseline_dir(Path(m))) for m in modules)


# -- the fixture -------------------------------------------------------------------------


@pytest.fixture
def table_regression(request: pytest.FixtureRequest) -> TableRegression:
    """Compare polars tables with parquet baselines stored beside the test.

    ``table_regression.check(df, name=None, *, rtol=1e-9, atol=0.0, check_dtypes=True,
    check_column_order=True, check_row_order=True, sort_by=None)`` compares ``df`` with
    ``__baselines__/<module>/<test name>[.<name>].parquet`` next to the test file and fails
    with a readable diff. ``pytest --update-baselines`` writes missing and differing
    baselines (``=all``: every checked one); ``--prune-baselines`` deletes unused ones after
    a full run.
    """
    from artifact_manager.plugin.baseline_check import TableRegression  # on first use

    return TableRegression(request)
