"""The plugin's fixtures. Their docstrings are what ``pytest --fixtures`` shows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from artifact_manager.plugin.session import state_of

if TYPE_CHECKING:
    from artifact_manager.config import ArtifactConfig
    from artifact_manager.manager import ArtifactManager
    from artifact_manager.plugin.factory import ArtifactManagerFactory

__all__ = [
    "artifact_config",
    "artifact_manager",
    "artifact_manager_factory",
    "test_artifacts_dir",
]


@pytest.fixture
def artifact_config(request: pytest.FixtureRequest) -> ArtifactConfig:
    """The test-mode ``ArtifactConfig`` of this test.

    Its test name comes from the node id; data root, source, build and base model from the
    command line / ini (``--artifacts-root`` ...) and the test's ``@pytest.mark.artifacts``.
    Override it in a conftest to change them; the mode stays test whatever it returns.
    """
    node = request.node
    assert isinstance(node, pytest.Item)
    return state_of(request.config).lifecycle.config_of(node)


@pytest.fixture
def artifact_manager(artifact_config: ArtifactConfig) -> ArtifactManager:
    """An ``ArtifactManager`` in test mode for this test's own dir.

    The dir (``<root>/<source>/<build>/<model>_eval/tests/<test name>/``) is emptied before
    the test and deleted after it unless ``--keep-artifacts`` keeps it.
    """
    from artifact_manager.manager import ArtifactManager  # the library, on first use

    return ArtifactManager(artifact_config)


@pytest.fixture
def test_artifacts_dir(artifact_manager: ArtifactManager) -> Path:
    """This test's artifacts dir (created): ``.../tests/<test name>/meta_models/predictions``."""
    return artifact_manager.get_artifacts_dir(create=True)


@pytest.fixture(scope="session")
def artifact_manager_factory(request: pytest.FixtureRequest) -> ArtifactManagerFactory:
    """Makes further test-mode managers.

    ``artifact_manager_factory()`` -> a manager for the running test's own dir;
    ``artifact_manager_factory("name")`` -> a dir shared by all tests and xdist workers of the
    session (emptied when the session first uses it, removed at its end unless kept);
    keywords ``source``, ``build``, ``base_model``, ``coverage`` override the settings.
    """
    return state_of(request.config).factory
