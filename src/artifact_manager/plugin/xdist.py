"""pytest-xdist hooks: registered only when xdist is installed and active."""

from __future__ import annotations

from typing import Any

from artifact_manager.plugin.session import PAYLOAD_KEY, SESSION_ID_KEY, SessionState

__all__ = ["XdistHooks"]


class XdistHooks:
    """Controller side: hand the session id to workers, merge what they report back."""

    def __init__(self, state: SessionState) -> None:
        self._state = state

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[SESSION_ID_KEY] = self._state.session_id

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        payload = getattr(node, "workeroutput", {}).get(PAYLOAD_KEY)
        if payload is not None:
            self._state.report.merge(payload)
