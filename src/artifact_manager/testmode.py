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
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from artifact_manager.validation import validate_component

__all__ = ["ForcedTestMode", "active_forced_test_mode", "forced_test_mode"]


@dataclass
class ForcedTestMode:
    """One activation: the test name to force and the test roots created under it.

    ``allowed_names`` are test names kept as given (still in test mode), for dirs a test
    shares on purpose (the pytest plugin's ``artifact_manager_factory``). ``on_new_root`` is
    called once for each new test root under the forced name that a manager is made for.
    """

    test_name: str
    allowed_names: Collection[str] = ()
    on_new_root: Callable[[Path], None] | None = None
    created_roots: list[Path] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def resolve_test_name(self, requested: str | None) -> str:
        """The name a config asking for ``requested`` gets while this activation is on."""
        if requested is not None and requested in self.allowed_names:
            return requested
        return self.test_name

    def record_root(self, root: Path) -> None:
        """Remember a test root of the forced name that a manager was made for.

        ``on_new_root`` runs first, under this activation's lock (a second thread making a
        manager for the same root waits for it); if it raises, the root is not recorded.
        """
        with self._lock:
            if root in self.created_roots:
                return
            if self.on_new_root is not None:
                self.on_new_root(root)
            self.created_roots.append(root)


_stack: list[ForcedTestMode] = []
_stack_lock = threading.Lock()


def active_forced_test_mode() -> ForcedTestMode | None:
    """The innermost active activation, or ``None`` when test mode is not forced."""
    with _stack_lock:
        return _stack[-1] if _stack else None


@contextmanager
def forced_test_mode(
    test_name: str,
    *,
    allowed_names: Collection[str] = (),
    on_new_root: Callable[[Path], None] | None = None,
) -> Iterator[ForcedTestMode]:
    """Force test mode named ``test_name`` for every config created inside the block."""
    validate_component("test_name", test_name)
    activation = ForcedTestMode(test_name, allowed_names, on_new_root)
    with _stack_lock:
        _stack.append(activation)
    try:
        yield activation
    finally:
        with _stack_lock:
            _stack.remove(activation)
