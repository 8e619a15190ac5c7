"""``ArtifactConfig``: what a manager manages, validated at construction.

Mode resolution, in order:

1. While :func:`~artifact_manager.testmode.forced_test_mode` is active (the pytest plugin
   turns it on for every test), the mode is ``"test"`` and the test name is the forced one.
   An activation that allows production (a test marked ``allow_production_writes``) forces
   only the configs that resolve to test mode by rules 2 and 3 onto its name.
2. An explicit ``mode`` is kept as given: ``mode="test"`` is never turned into production
   (the original manager's auto-detection turned ``mode="test"`` with ``full_genome`` into
   production, so a test could write production data).
3. ``mode=None`` (auto) is ``"production"`` for ``coverage="full_genome"``, else ``"test"``.

A test-mode config without a test name gets a generated one,
``test_<YYYYmmdd>_<HHMMSS>_<pid>_<random>``, unique even for many processes started in the
same second.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

from artifact_manager.errors import ArtifactConfigError
from artifact_manager.paths import (
    DEFAULT_BASE_MODEL,
    DEFAULT_BUILD,
    DEFAULT_DATA_ROOT,
    DEFAULT_SOURCE,
    ENV_DATA_ROOT,
)
from artifact_manager.testmode import active_forced_test_mode
from artifact_manager.validation import validate_component

__all__ = [
    "COVERAGES",
    "DEFAULT_BASE_MODEL",
    "DEFAULT_BUILD",
    "DEFAULT_DATA_ROOT",
    "DEFAULT_SOURCE",
    "ENV_DATA_ROOT",
    "MODES",
    "ArtifactConfig",
    "Coverage",
    "Mode",
    "generate_test_name",
    "resolve_mode_and_test_name",
]

Mode = Literal["production", "test"]
Coverage = Literal["full_genome", "chromosome", "gene_subset"]
MODES: tuple[Mode, ...] = get_args(Mode)
COVERAGES: tuple[Coverage, ...] = get_args(Coverage)


def generate_test_name() -> str:
    """A fresh test name, unique across processes and within the same second."""
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    return f"test_{stamp}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def _check_choice(field: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ArtifactConfigError(
            field, value, "is not a known value", f"use one of {', '.join(choices)}"
        )


def resolve_mode_and_test_name(
    mode: object, coverage: object, test_name: object
) -> tuple[Mode, str | None]:
    """Validate and resolve ``mode`` and ``test_name`` (see the module docs for the rules)."""
    if mode is not None:
        _check_choice("mode", mode, MODES)
    _check_choice("coverage", coverage, COVERAGES)
    name = None if test_name is None else validate_component("test_name", test_name)
    forced = active_forced_test_mode()
    if forced is not None and not forced.allows_production:
        return "test", forced.resolve_test_name(name)
    resolved: Mode
    if mode is None:
        resolved = "production" if coverage == "full_genome" else "test"
    else:
        resolved = "production" if mode == "production" else "test"
    if forced is not None and resolved == "test":  # (an exempt test's own test-mode code)
        return "test", forced.resolve_test_name(name)
    if resolved == "test" and name is None:
        return resolved, generate_test_name()
    return resolved, name


@dataclass(frozen=True)
class ArtifactConfig:
    """Where artifacts live and which mode governs them.

    Every field is validated when the config is made; an unusable value raises
    :class:`~artifact_manager.errors.ArtifactConfigError` naming the field and the value.
    After construction ``mode`` is always ``"production"`` or ``"test"`` and a test-mode
    config always has a ``test_name``.
    """

    mode: Mode | None = None
    coverage: Coverage = "gene_subset"
    source: str = DEFAULT_SOURCE
    build: str = DEFAULT_BUILD
    base_model: str = DEFAULT_BASE_MODEL
    test_name: str | None = None
    data_root: Path = DEFAULT_DATA_ROOT
    #: Flush every write to disk (fsync) before it counts as done. ``None``: production
    #: does, test mode does not (test artifacts are disposable; atomic renames still
    #: protect them from a killed process, fsync only adds protection from power loss).
    durable: bool | None = None

    def __post_init__(self) -> None:
        for field in ("source", "build", "base_model"):
            validate_component(field, getattr(self, field))
        mode, test_name = resolve_mode_and_test_name(self.mode, self.coverage, self.test_name)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "test_name", test_name)
        root = self.data_root
        if not isinstance(root, (str, os.PathLike)) or "\x00" in os.fspath(root):
            raise ArtifactConfigError(
                "data_root", root, "is not a usable path", "pass a str or pathlib.Path"
            )
        object.__setattr__(self, "data_root", Path(root))
        if self.durable is not None and not isinstance(self.durable, bool):
            raise ArtifactConfigError(
                "durable", self.durable, "is not a bool", "pass True, False or None (by mode)"
            )

    @property
    def is_durable(self) -> bool:
        """Whether writes are flushed to disk: ``durable``, else True in production only."""
        return self.durable if self.durable is not None else self.mode == "production"

    @property
    def resolved_mode(self) -> Mode:
        """``mode``, typed as resolved (it never is ``None`` after construction)."""
        return "production" if self.mode == "production" else "test"
