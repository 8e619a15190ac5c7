"""pytest-artifact-manager: per-test artifact dirs, a production guard, an artifact library."""

from __future__ import annotations

from artifact_manager.config import ArtifactConfig
from artifact_manager.errors import (
    ArtifactBuildError,
    ArtifactConfigError,
    ArtifactError,
    ArtifactExistsError,
    ArtifactLockTimeout,
    ArtifactManifestError,
    ArtifactPathError,
    ArtifactUsageError,
    ProductionWriteError,
)
from artifact_manager.manager import ArtifactManager, create_artifact_manager_from_workflow_config
from artifact_manager.naming import nodeid_to_test_name
from artifact_manager.settings import ArtifactSettings
from artifact_manager.storage.manifest import ValidationReport
from artifact_manager.testmode import forced_test_mode

__all__ = [
    "ArtifactBuildError",
    "ArtifactConfig",
    "ArtifactConfigError",
    "ArtifactError",
    "ArtifactExistsError",
    "ArtifactLockTimeout",
    "ArtifactManager",
    "ArtifactManifestError",
    "ArtifactPathError",
    "ArtifactSettings",
    "ArtifactUsageError",
    "ProductionWriteError",
    "ValidationReport",
    "create_artifact_manager_from_workflow_config",
    "forced_test_mode",
    "nodeid_to_test_name",
]
