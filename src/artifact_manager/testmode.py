"""Forced test mode: the core-side switch the pytest plugin turns on while a test runs.

While :func:`forced_test_mode` is active, every :class:`~artifact_manager.ArtifactConfig`
(and so every manager and every :class:`~artifact_manager.ArtifactSettings` config) created
in this process resolves to test mode with the forced test name, whatever mode, coverage or
test name the code under test asked for. An unchanged pipeline that builds
``SpliceAIConfig(coverage="full_genome").get_artifact_manager()`` therefore writes into the
running test's dir instead of production.

The switch is process-wide on purpose (not a ``ContextVar``): threads started by the code
under test must see it too. It nests; the innermost activation wins.

Whoever turns it on may pass a :class:`RootClaimer`: the one place that decides which names
are shared across tests and what happens to a test root before its first manager is handed
out (the pytest plugin locks and empties it there). Without one, nothing on disk is touched.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from artifact_manager.validation import validate_component

__all__ = ["ForcedTestMode", "RootClaimer", "active_forced_test_mode", "forced_test_mode"]


class RootClaimer(Protocol):
    """Owns the test roots handed out while test mode is forced."""

    def is_shared(self, test_name: str) -> bool:
        """True for a name shared across tests on purpose: a config asking for it keeps it
        (still in test mode) instead of getting the forced name."""

    def claim(self, root: Path) -> None:
        """Make ``root`` ready before the first manager for it is returned (called once per
        root and activation); raising refuses the manager."""


class ForcedTestMode:
    """One activation: the test name to force and the test roots claimed under it.

    ``test_name`` is the name, or a function that gives it: then it is computed (and
    validated) only when a config first asks, so a test that makes no config pays nothing.
    ``claimer`` decides which names are shared and claims each new test root of the forced
    name (see :class:`RootClaimer`). ``allows_production``: production configs are left as
    they are (only test-mode configs are forced onto the name).
    """

    def __init__(
        self,
        test_name: str | Callable[[], str],
        claimer: RootClaimer | None = None,
        *,
        allows_production: bool = False,
    ) -> None:
        self._name: str | None = None
        self._name_of: Callable[[], str] | None = None
        if callable(test_name):
            self._name_of = test_name
        else:
            self._name = validate_component("test_name", test_name)
        self.claimer = claimer
        #: The test roots of the forced name that managers were made for, in claim order.
        self.created_roots: list[Path] = []
        #: A config that resolves to production stays production (a test exempted with
        #: ``allow_production_writes``); test-mode configs still get the forced name.
        self.allows_production = allows_production

    #: How the first manager of each claimed root spelt it (absolute, symlinks kept: a
    #: ``data -> ../bigdisk/data`` stays ``.../data``), by root, where that differs from the
    #: root itself (made on first need: most activations claim no root, or spell it so).
    root_spellings: dict[Path, Path] | None = None

    def __repr__(self) -> str:
        return f"ForcedTestMode({self._name or self._name_of!r})"

    @property
    def test_name(self) -> str:
        """The forced name (computed on first use when given as a function)."""
        if self._name is None:
            self._name = validate_component("test_name", self._make_name())
        return self._name

    def _make_name(self) -> str:
        """The name, when it was given as a function (a subclass may compute it itself)."""
        assert self._name_of is not None
        return self._name_of()

    def resolve_test_name(self, requested: str | None) -> str:
        """The name a config asking for ``requested`` gets while this activation is on."""
        if requested is not None and self.claimer is not None and self.claimer.is_shared(requested):
            return requested
        return self.test_name

    def claim_root(self, root: Path, spelling: Path | None = None) -> None:
        """Called by ``ArtifactManager()`` for a test root of the forced name: the first time,
        the claimer claims it (under the claim lock: a second thread making a manager for
        the same root waits), then it is recorded; if claiming raises, it is not.

        ``root`` is the key (its parent's real path); ``spelling``, the path the manager
        used for it: the first one is kept as :meth:`spelling_of` the root."""
        with _claim_lock:
            if root in self.created_roots:
                return
            if self.claimer is not None:
                self.claimer.claim(root)
            self.created_roots.append(root)
            if spelling is not None:
                spelt = Path(os.path.abspath(spelling))
                if spelt != root:
                    if self.root_spellings is None:
                        self.root_spellings = {}
                    self.root_spellings[root] = spelt

    def spelling_of(self, root: Path) -> Path:
        """Claimed ``root`` as its first manager spelt it (absolute), else ``root``."""
        spellings = self.root_spellings
        return root if spellings is None else spellings.get(root, root)

    def activate(self) -> None:
        """Turn this activation on (innermost); :meth:`deactivate` turns it off. The plugin
        calls the pair around each test attempt; elsewhere use :func:`forced_test_mode`."""
        with _stack_lock:
            _stack.append(self)

    def deactivate(self) -> None:
        """Turn this activation off (a no-op if it is not on)."""
        with _stack_lock:
            if self in _stack:
                _stack.remove(self)


_stack: list[ForcedTestMode] = []
_stack_lock = threading.Lock()
#: Serializes claims (rare: a test's first manager per root). One for all activations, so
#: that an activation, made for every test, costs no lock of its own.
_claim_lock = threading.RLock()


def active_forced_test_mode() -> ForcedTestMode | None:
    """The innermost active activation, or ``None`` when test mode is not forced."""
    with _stack_lock:
        return _stack[-1] if _stack else None


@contextmanager
def forced_test_mode(
    test_name: str | Callable[[], str], *, claimer: RootClaimer | None = None
) -> Iterator[ForcedTestMode]:
    """Force test mode named ``test_name`` (or named by calling it, on first use) for every
    config created inside the block; ``claimer`` owns the roots (see :class:`RootClaimer`)."""
    activation = ForcedTestMode(test_name, claimer)
    activation.activate()
    try:
        yield activation
    finally:
        activation.deactivate()
