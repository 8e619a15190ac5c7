"""The plugin's per-session state, kept in ``config.stash``."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from artifact_manager.plugin.dirs import TestDirs
from artifact_manager.plugin.guarding import GuardSession
from artifact_manager.plugin.lifecycle import Lifecycle
from artifact_manager.plugin.options import PluginSettings
from artifact_manager.plugin.report import ArtifactReport, run_identity
from artifact_manager.sessions import SessionInfo

if TYPE_CHECKING:
    from artifact_manager.config import ArtifactConfig
    from artifact_manager.plugin.factory import ArtifactManagerFactory
    from artifact_manager.storage.trash import Trash

__all__ = ["STATE_KEY", "SessionState", "state_of"]

SESSION_ID_KEY = "artifact_manager_session_id"
SESSION_STARTED_KEY = "artifact_manager_session_started"
PAYLOAD_KEY = "artifact_manager"


class SessionState:
    """Settings, per-test lifecycle, shared-dir factory and report of one pytest session."""

    def __init__(self, settings: PluginSettings, session: SessionInfo, is_worker: bool) -> None:
        self.settings = settings
        self.session = session
        self.is_worker = is_worker
        self.report = ArtifactReport()
        self.guard = GuardSession.build(
            settings.guard, settings.data_root, settings.protect, settings.allow
        )
        self.dirs = TestDirs(
            self.settings,
            self.session,
            self._make_trash,
            reaps_at_start=not self.is_worker,
        )
        self.lifecycle = Lifecycle(self.settings, self.dirs)
        self._factory: ArtifactManagerFactory | None = None

    def _make_trash(self) -> Trash:
        """The session's trash, made when a dir is first discarded (see :mod:`.dirs`)."""
        from artifact_manager.storage.trash import Trash

        return Trash(
            owner=f"pytest session {self.session.id}",
            on_thread_start=self.guard.ignore_this_thread,
        )

    @property
    def factory(self) -> ArtifactManagerFactory:
        """The session's ``artifact_manager_factory`` (made when a test first asks for it)."""
        if self._factory is None:
            from artifact_manager.plugin.factory import ArtifactManagerFactory

            self._factory = ArtifactManagerFactory(self.settings, self.dirs)
        return self._factory

    @classmethod
    def from_config(cls, config: pytest.Config) -> SessionState:
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None and workerinput.get(SESSION_ID_KEY):
            session = SessionInfo(
                str(workerinput[SESSION_ID_KEY]), float(workerinput[SESSION_STARTED_KEY])
            )
        else:
            session = SessionInfo(uuid.uuid4().hex, time.time())
        state = cls(PluginSettings.from_config(config), session, workerinput is not None)
        state.guard.setup_only = bool(config.getoption("setuponly", False))
        return state

    def enforce_strict(self, config: pytest.Config) -> None:
        """Strict mode: the configured layout's ``tests/`` tree, the report files, JUnit XML
        and pytest's cache dir are made first, so they stay writable under Landlock, which
        lets nothing new be made in the ancestors of the data root. (Under xdist the
        controller writes the reports and is not restricted.)"""
        settings = self.settings
        if settings.guard != "strict":
            return
        xml = config.getoption("xmlpath", None)
        junit = Path(config.invocation_params.dir) / xml if xml else None
        reports = (settings.report_path, settings.html_path, junit)
        keep = [p for p in reports if p is not None] if not self.is_worker else []
        cache = getattr(config, "cache", None)
        if cache is not None:
            cache.mkdir("artifact_manager")
        self.guard.enforce_strict([settings.eval_dir], keep)

    def check_strict_outputs(self, config: pytest.Config) -> None:
        """At configure time (serial session or xdist controller): under Landlock, outputs
        that would be made where Landlock forbids it stop the session now, not at its end."""
        if self.is_worker or self.guard.strict_mechanism != "landlock":
            return
        from artifact_manager.plugin.outputs import landlock_blind_spots

        problems = landlock_blind_spots(config, self.guard.policy.roots)
        if problems:
            raise pytest.UsageError(
                "--artifacts-guard=strict uses Landlock here (no mount namespace), which "
                "cannot allow new files directly in the data root's ancestors: "
                + "; ".join(problems)
                + "; or run where mount namespaces are allowed (root or CAP_SYS_ADMIN)"
            )

    def finish(self, config: pytest.Config) -> None:
        """Attempts cut short by an interrupt are finished; workers hand their report to the
        controller; the controller (or a serial session) keeps or removes the shared dirs and
        writes the JSON and HTML reports. Every process waits for its trash to be emptied."""
        for finished in self.lifecycle.finish_interrupted(self.settings.reports_files):
            self.report.add(finished.nodeid, finished.outcome, finished.record, finished.duration)
        self.report.reaped.extend(self.dirs.reaped)
        self.report.shared_roots.update(self.dirs.shared_roots)
        workeroutput = getattr(config, "workeroutput", None) if self.is_worker else None
        if not self.is_worker:
            self.dirs.finish_shared(self.report.shared_roots, any_failed=self.report.any_failed)
            # A worker keeps its session locks until its process exits: the controller takes
            # them over in pytest_testnodedown first, so this session's shared dirs never look
            # dead to another session's reaper before the controller has kept or removed them.
            self.dirs.close()
        for error in self.dirs.close_trash():
            self.dirs.warn(error)
        # Warnings -W error made errors with no test to fail: the session fails with them
        # (a worker's go to the controller, whose summary and reports list them).
        self.report.errors.extend(self.dirs.take_errors())
        if workeroutput is not None:  # a worker hands its report to the controller
            workeroutput[PAYLOAD_KEY] = self.report.payload()
        if not self.is_worker:  # the reports last: they include the errors above
            self._write_reports(config)

    def _write_reports(self, config: pytest.Config) -> None:
        """Write the JSON and the HTML report. One that cannot be written (its dir is read
        only, the disk is full, a dir took its place since the start) is a warning naming
        it: the other is still written and the session keeps its outcome."""
        settings = self.settings
        run = run_identity(config, self.session) if settings.reports_files else {}
        for what, path, write in (
            ("JSON report", settings.report_path, self.report.write),
            ("HTML report", settings.html_path, self._write_html),
        ):
            if path is None:
                continue
            try:
                write(path, run)
            except OSError as error:
                self.dirs.warn(
                    f"could not write the {what} {str(path)!r}: {error}; make room for it "
                    "(a writable dir, no dir of that name) or pick another path"
                )
        self.report.errors.extend(self.dirs.take_errors())  # -W error: the session fails

    def _write_html(self, path: Path, run: dict[str, Any]) -> None:
        from artifact_manager.reporting import write_html

        write_html(self.report.to_json(run), path)

    def finish_crashed(self, nodeid: str) -> None:
        """Controller: the xdist worker running ``nodeid`` died. Its dir (in the configured
        layout: a marker's layout is unknown here) is kept or removed as a failed test's. A
        kept one's files are listed when a report is asked for, as a finished test's are
        (the keep marker, written after a finished test's files are listed, is left out of
        them and of the size); a removed one's are not: the worker that would have listed
        them is gone."""
        from artifact_manager.layout import Layout
        from artifact_manager.naming import nodeid_to_test_name
        from artifact_manager.plugin.records import ArtifactRecord
        from artifact_manager.storage.checksum import sha256_file
        from artifact_manager.storage.cleanup import tree_files
        from artifact_manager.storage.retention import KEEP_MARKER

        test_name = nodeid_to_test_name(nodeid)
        root = self.settings.tests_root / test_name
        kept = self.dirs.finish_crashed(root, nodeid)
        entries = [f for f in tree_files(root) if f.name != KEEP_MARKER] if kept else []
        listed = entries if self.settings.reports_files else []
        files = [{"name": f.name, "size": f.size, "sha256": sha256_file(f.path)} for f in listed]
        record = ArtifactRecord(
            nodeid=nodeid,
            test_name=test_name,
            artifacts_dir=str(Layout.from_config(self._config_for(test_name)).artifacts_dir),
            test_root=str(root),
            outcome="crashed",
            kept=kept,
            size=sum(f.size for f in entries),
            files=files,
        )
        self.report.add(nodeid, "failed", record)

    def _config_for(self, test_name: str) -> ArtifactConfig:
        from artifact_manager.config import ArtifactConfig

        settings = self.settings
        return ArtifactConfig(
            mode="test",
            source=settings.source,
            build=settings.build,
            base_model=settings.base_model,
            data_root=settings.data_root,
            test_name=test_name,
        )


STATE_KEY = pytest.StashKey[SessionState]()


def state_of(config: pytest.Config) -> SessionState:
    return config.stash[STATE_KEY]
