"""pytest-xdist hooks: registered only when xdist is installed and active."""

from __future__ import annotations

from typing import Any

import pytest

from artifact_manager.plugin.session import (
    PAYLOAD_KEY,
    SESSION_ID_KEY,
    SESSION_STARTED_KEY,
    SessionState,
)

__all__ = ["XdistHooks"]


class XdistHooks:
    """Controller side: hand the session to workers, merge what they report back, finish
    the test of a worker that crashed."""

    def __init__(self, state: SessionState) -> None:
        self._state = state

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[SESSION_ID_KEY] = self._state.session.id
        node.workerinput[SESSION_STARTED_KEY] = self._state.session.started

    @pytest.hookimpl(tryfirst=True)  # a firstresult hook: run before pytest-rerunfailures'
    def pytest_handlecrashitem(self, crashitem: str, report: Any, sched: Any) -> None:
        # The worker died mid-test (os._exit, a segfault, the OOM killer): its teardown never
        # ran, so the controller keeps or removes the dir as for a failed test.
        self._state.finish_crashed(crashitem)

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        payload = getattr(node, "workeroutput", {}).get(PAYLOAD_KEY)
        if payload is not None:
            self._state.report.merge(payload)
            self._state.dirs.hold(payload.get("shared_roots", []))
