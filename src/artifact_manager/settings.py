"""``ArtifactSettings``: give any workflow config dataclass the artifact integration.

::

    @dataclass
    class SpliceAIConfig(ArtifactSettings):
        gtf_file: str = "annotations.gtf"
        source: str = "ensembl"      # optional: read by get_artifact_manager()
        build: str = "GRCh37"

    config = SpliceAIConfig(coverage="full_genome")   # mode resolves to "production"
    manager = config.get_artifact_manager()

The mix-in's fields are keyword-only, so the host class may declare fields without
defaults. A host that defines its own ``__post_init__`` must call ``super().__post_init__()``.
``get_artifact_manager()`` reads ``source``, ``build``, ``base_model``, ``data_root`` and
``durable`` from the host when it has them, else uses
:class:`~artifact_manager.ArtifactConfig`'s defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from artifact_manager.config import ArtifactConfig, Coverage, Mode, resolve_mode_and_test_name
from artifact_manager.manager import ArtifactManager

__all__ = ["ArtifactSettings"]

_PASSED_THROUGH = ("source", "build", "base_model", "data_root", "durable")


@dataclass(kw_only=True)
class ArtifactSettings:
    """Mix-in with ``mode``/``coverage``/``test_name`` fields and mode auto-detection."""

    mode: Mode | None = None
    coverage: Coverage = "gene_subset"
    test_name: str | None = None

    def __post_init__(self) -> None:
        self.mode, self.test_name = resolve_mode_and_test_name(
            self.mode, self.coverage, self.test_name
        )

    def artifact_config(self) -> ArtifactConfig:
        """The :class:`ArtifactConfig` these settings describe."""
        # Passed as they are: ArtifactConfig checks each one (a host's data_root=None is an
        # ArtifactConfigError naming it) and makes data_root a Path.
        extra: dict[str, Any] = {n: getattr(self, n) for n in _PASSED_THROUGH if hasattr(self, n)}
        return ArtifactConfig(
            mode=self.mode, coverage=self.coverage, test_name=self.test_name, **extra
        )

    def get_artifact_manager(self) -> ArtifactManager:
        """An :class:`ArtifactManager` for these settings."""
        return ArtifactManager(self.artifact_config())
