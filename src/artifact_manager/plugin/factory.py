"""``artifact_manager_factory``: further test-mode managers, and dirs shared across tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from artifact_manager.errors import ArtifactUsageError
from artifact_manager.plugin.dirs import TestDirs
from artifact_manager.plugin.options import PluginSettings
from artifact_manager.testmode import active_forced_test_mode

if TYPE_CHECKING:
    from artifact_manager.config import Coverage
    from artifact_manager.manager import ArtifactManager

__all__ = ["SHARED_BUILDS", "ArtifactManagerFactory"]

#: The shared dir of the session-wide builds (``artifact_manager_factory.get_or_build``).
SHARED_BUILDS = "session-builds"


class ArtifactManagerFactory:
    """Makes test-mode managers that follow the plugin's rules.

    ``factory()`` is a manager for the running test (its own dir). ``factory("name")`` is a
    manager for a dir shared by every test (and every xdist worker) of this session: it is
    emptied once, when the session first uses it, and removed at the end of the session
    unless artifacts are kept (:class:`~artifact_manager.plugin.dirs.TestDirs` owns both).
    Keyword arguments override ``source``, ``build``, ``base_model`` and ``coverage``; the
    mode is always test.
    """

    def __init__(self, settings: PluginSettings, dirs: TestDirs) -> None:
        self._settings = settings
        self._dirs = dirs

    def __repr__(self) -> str:
        return f"ArtifactManagerFactory(data_root={str(self._settings.data_root)!r})"

    def __call__(
        self,
        name: str | None = None,
        *,
        source: str | None = None,
        build: str | None = None,
        base_model: str | None = None,
        coverage: Coverage = "gene_subset",
    ) -> ArtifactManager:
        if name is None and active_forced_test_mode() is None:
            raise ArtifactUsageError(
                "artifact_manager_factory()",
                name,
                "names no dir, and no test is running to lend its own",
                "pass a name for a dir shared across tests, or call it inside a test",
            )
        # The library, on first use (the manager imports the config and layout too).
        from artifact_manager.config import ArtifactConfig
        from artifact_manager.layout import Layout
        from artifact_manager.manager import ArtifactManager

        if name is not None:
            name = self._dirs.share(name)
        config = ArtifactConfig(
            mode="test",
            coverage=coverage,
            source=source or self._settings.source,
            build=build or self._settings.build,
            base_model=base_model or self._settings.base_model,
            test_name=name,
            data_root=self._settings.data_root,
        )
        if name is not None:
            root = Layout.from_config(config).test_root
            assert root is not None
            self._dirs.prepare_shared(root, name)
        return ArtifactManager(config)

    def get_or_build(
        self,
        name: str,
        builder: Callable[[Path], object],
        *,
        source: str | None = None,
        build: str | None = None,
        base_model: str | None = None,
    ) -> Path:
        """Artifact ``name`` built once per session, whichever test or xdist worker asks first.

        It lives in the shared dir :data:`SHARED_BUILDS`; the others wait and read it. See
        ``ArtifactManager.get_or_build`` for the builder's contract.
        """
        manager = self(SHARED_BUILDS, source=source, build=build, base_model=base_model)
        return manager.get_or_build(name, builder)
