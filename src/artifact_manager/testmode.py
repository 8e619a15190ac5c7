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
from pathlib import Path

from artifact_manager.validation import validate_component

__all__ = ["ForcedTestMode", "active_forced_test_mode", "forced_test_mode"]


class ForcedTestMode:
    """One activation: the test name to force and the test roots created under it.

    ``test_name`` is the name, or a function that gives it: then it is computed (and
    validated) only when a config first asks, so a test that makes no config pays nothing.
    ``allowed_names`` are test names kept as given (still in test mode), for dirs a test
    shares on purpose (the pytest plugin's ``artifact_manager_factory``). ``on_new_root`` is
    called once for each new test root under the forced name that a manager is made for.
    """

    def __init__(
        self,
        test_name: str | Callable[[], str],
        allowed_names: Collection[str] = (),
        on_new_root: Callable[[Path], None] | None = None,
    ) -> None:
        self._name: str | None = None
        self._name_of: Callable[[], str] | None = None
        if callable(test_name):
            self._name_of = test_name
        else:
            self._name = validate_component("test_name", test_name)
        self.allowed_names = allowed_names
        self.on_new_root = on_new_root
        self.created_roots: list[Path] = []
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"ForcedTestMode({self._name or self._name_of!r})"

    @property
    def test_name(self) -> str:
        """The forced name (computed on first use when given as a function)."""
        if self._name is None:
            assert self._name_of is not None
            self._name = validate_component("test_name", self._name_of())
        return self._name

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
    test_name: str | Callable[[], str],
    *,
    allowed_names: Collection[str] = (),
    on_new_root: Callable[[Path], None] | None = None,
) -> Iterator[ForcedTestMode]:
    """Force test mode named ``test_name`` (or named by calling it, on first use) for every
    config created inside the block."""
    activation = ForcedTestMode(test_name, allowed_names, on_new_root)
    with _stack_lock:
        _stack.append(activation)
    try:
        yield activation
    finally:
        with _stack_lock:
            _stack.remove(activation)
