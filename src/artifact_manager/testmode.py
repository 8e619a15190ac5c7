"""Forced test mode: the core-side switch the pytest plugin turns on while a test runs.

While :func:`forced_test_mode` is active, every :class:`~artifact_manager.ArtifactConfig`
(and so every manager and every :class:`~artifact_manager.ArtifactSettings` config) created
in this process resolves to test mode with the forced test name, whatever mode, coverage or
test name the code under test asked for. An unchanged pipeline that builds
``SpliceAIConfig(coverage="full_genome").get_artifact_manager()`` therefore writes into the
running test's dir instead of production.

The switch is process-wide on purpose (not a ``ContextVar``): threads started by the code
under test must see it too. It nests; the innermost activation wins.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from artifact_manager.validation import validate_component

__all__ = ["ForcedTestMode", "active_forced_test_mode", "forced_test_mode"]


@dataclass
class ForcedTestMode:
    """One activation: the test name to force and the test roots created under it."""

    test_name: str
    created_roots: list[Path] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record_root(self, root: Path) -> None:
        """Remember a test root that a manager created while forced (for cleanup)."""
        with self._lock:
            if root not in self.created_roots:
                self.created_roots.append(root)


_stack: list[ForcedTestMode] = []
_stack_lock = threading.Lock()


def active_forced_test_mode() -> ForcedTestMode | None:
    """The innermost active activation, or ``None`` when test mode is not forced."""
    with _stack_lock:
        return _stack[-1] if _stack else None


@contextmanager
def forced_test_mode(test_name: str) -> Iterator[ForcedTestMode]:
    """Force test mode named ``test_name`` for every config created inside the block."""
    validate_component("test_name", test_name)
    activation = ForcedTestMode(test_name)
    with _stack_lock:
        _stack.append(activation)
    try:
        yield activation
    finally:
        with _stack_lock:
            _stack.remove(activation)
