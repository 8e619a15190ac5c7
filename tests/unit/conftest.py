from __future__ import annotations

from pathlib import Path

import pytest

from artifact_manager import ArtifactConfig, ArtifactManager


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def production(data_root: Path) -> ArtifactManager:
    """A production-mode manager on a private data root."""
    return ArtifactManager(ArtifactConfig(mode="production", data_root=data_root))


@pytest.fixture
def testing(data_root: Path) -> ArtifactManager:
    """A test-mode manager on a private data root."""
    return ArtifactManager(ArtifactConfig(mode="test", test_name="t1", data_root=data_root))
