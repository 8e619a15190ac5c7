"""pytest-artifact-manager: per-test artifact dirs, a production guard, an artifact library."""

from __future__ import annotations

from typing import TYPE_CHECKING

from artifact_manager.lazy import lazy_exports

if TYPE_CHECKING:
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
    from artifact_manager.manager import (
        ArtifactManager,
        create_artifact_manager_from_workflow_config,
    )
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

#: The module each public name lives in: imported on first use (PEP 562), so that pytest
#: loading the plugin (which imports ``artifact_manager.plugin``) does not pay for the
#: library (the manager, table writers, manifests, versions) until a test uses it.
_MODULES = {
    "ArtifactBuildError": "artifact_manager.errors",
    "ArtifactConfig": "artifact_manager.config",
    "ArtifactConfigError": "artifact_manager.errors",
    "ArtifactError": "artifact_manager.errors",
    "ArtifactExistsError": "artifact_manager.errors",
    "ArtifactLockTimeout": "artifact_manager.errors",
    "ArtifactManager": "artifact_manager.manager",
    "ArtifactManifestError": "artifact_manager.errors",
    "ArtifactPathError": "artifact_manager.errors",
    "ArtifactSettings": "artifact_manager.settings",
    "ArtifactUsageError": "artifact_manager.errors",
    "ProductionWriteError": "artifact_manager.errors",
    "ValidationReport": "artifact_manager.storage.manifest",
    "create_artifact_manager_from_workflow_config": "artifact_manager.manager",
    "forced_test_mode": "artifact_manager.testmode",
    "nodeid_to_test_name": "artifact_manager.naming",
}

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
