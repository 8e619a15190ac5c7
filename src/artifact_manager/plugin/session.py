"""The plugin's per-session state, kept in ``config.stash``."""

from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from artifact_manager.config import ArtifactConfig
from artifact_manager.layout import Layout
from artifact_manager.plugin.factory import ArtifactManagerFactory
from artifact_manager.plugin.guarding import GuardSession
from artifact_manager.plugin.lifecycle import Lifecycle
from artifact_manager.plugin.options import PluginSettings
from artifact_manager.plugin.outputs import landlock_blind_spots
from artifact_manager.plugin.report import ArtifactReport
from artifact_manager.reporting import write_html
from artifact_manager.storage.trash import Trash

__all__ = ["STATE_KEY", "SessionState", "state_of"]

SESSION_ID_KEY = "artifact_manager_session_id"
PAYLOAD_KEY = "artifact_manager"


@dataclass
class SessionState:
    """Settings, per-test lifecycle, shared-dir factory and report of one pytest session."""

    settings: PluginSettings
    session_id: str
    is_worker: bool
    allowed_names: set[str] = field(default_factory=set)
    report: ArtifactReport = field(default_factory=ArtifactReport)

    def __post_init__(self) -> None:
        self.trash = Trash(owner=f"pytest session {self.session_id}")
        self.lifecycle = Lifecycle(self.settings, self.trash, self.allowed_names)
        settings = self.settings
        self.guard = GuardSession.build(
            settings.guard, settings.data_root, settings.protect, settings.allow
        )
        self.factory = ArtifactManagerFactory(
            self.settings, self.allowed_names, self.report, self.session_id, self.trash
        )

    @classmethod
    def from_config(cls, config: pytest.Config) -> SessionState:
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None:
            session_id = str(workerinput.get(SESSION_ID_KEY) or uuid.uuid4().hex)
        else:
            session_id = uuid.uuid4().hex
        return cls(PluginSettings.from_config(config), session_id, workerinput is not None)

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
        eval_dir = Layout.from_config(
            ArtifactConfig(
                mode="production",
                source=settings.source,
                build=settings.build,
                base_model=settings.base_model,
                data_root=settings.data_root,
            )
        ).eval_dir
        self.guard.enforce_strict([eval_dir], keep)

    def check_strict_outputs(self, config: pytest.Config) -> None:
        """At configure time (serial session or xdist controller): under Landlock, outputs
        that would be made where Landlock forbids it stop the session now, not at its end."""
        if self.is_worker or self.guard.strict_mechanism != "landlock":
            return
        problems = landlock_blind_spots(config, self.guard.policy.roots)
        if problems:
            raise pytest.UsageError(
                "--artifacts-guard=strict uses Landlock here (no mount namespace), which "
                "cannot allow new files directly in the data root's ancestors: "
                + "; ".join(problems)
                + "; or run where mount namespaces are allowed (root or CAP_SYS_ADMIN)"
            )

    def finish(self, config: pytest.Config) -> None:
        """Workers hand their report to the controller; the controller (or a serial session)
        removes shared dirs that are not kept and writes the JSON report. Every process
        waits for its trash to be emptied."""
        if self.is_worker:
            workeroutput = getattr(config, "workeroutput", None)
            if workeroutput is not None:
                workeroutput[PAYLOAD_KEY] = self.report.payload()
        else:
            if not self.settings.keeps(self.report.any_failed):
                self.factory.remove_shared(self.report.shared_roots)
            if self.settings.report_path is not None:
                self.report.write(self.settings.report_path)
            if self.settings.html_path is not None:
                write_html(self.report.to_json(), self.settings.html_path)
        for error in self.trash.close():
            warnings.warn(pytest.PytestWarning(error), stacklevel=1)


STATE_KEY = pytest.StashKey[SessionState]()


def state_of(config: pytest.Config) -> SessionState:
    return config.stash[STATE_KEY]
