"""``artifact_manager_factory``: further test-mode managers, and dirs shared across tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from artifact_manager.config import ArtifactConfig, Coverage
from artifact_manager.errors import ArtifactUsageError
from artifact_manager.layout import INTERNAL_PREFIX, Layout, lock_path_for
from artifact_manager.manager import ArtifactManager
from artifact_manager.plugin.options import PluginSettings
from artifact_manager.plugin.report import ArtifactReport
from artifact_manager.storage.locks import acquire
from artifact_manager.storage.trash import Trash
from artifact_manager.testmode import active_forced_test_mode
from artifact_manager.validation import validate_component

__all__ = ["SESSION_MARKER", "SHARED_BUILDS", "ArtifactManagerFactory"]

#: Written into a shared dir: the session that prepared it.
SESSION_MARKER = INTERNAL_PREFIX + "session"
#: The shared dir of the session-wide builds (``artifact_manager_factory.get_or_build``).
SHARED_BUILDS = "session-builds"


class ArtifactManagerFactory:
    """Makes test-mode managers that follow the plugin's rules.

    ``factory()`` is a manager for the running test (its own dir). ``factory("name")`` is a
    manager for a dir shared by every test (and every xdist worker) of this session: it is
    emptied once, when the session first uses it, and removed at the end of the session
    unless artifacts are kept. Keyword arguments override ``source``, ``build``,
    ``base_model`` and ``coverage``; the mode is always test.
    """

    def __init__(
        self,
        settings: PluginSettings,
        allowed_names: set[str],
        report: ArtifactReport,
        session_id: str,
        trash: Trash,
    ) -> None:
        self._settings = settings
        self._trash = trash
        self._allowed_names = allowed_names
        self._report = report
        self._session_id = session_id
        self._prepared: set[Path] = set()

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
        if name is not None:
            self._allowed_names.add(validate_component("test_name", name))
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
            self._prepare_shared(Layout.from_config(config), name)
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

    def _prepare_shared(self, layout: Layout, name: str) -> None:
        root = layout.test_root
        assert root is not None
        if root in self._prepared:
            return
        with acquire(
            lock_path_for(root),
            timeout=self._settings.lock_timeout,
            owner=f"pytest preparing shared dir {name!r}",
        ):
            marker = root / SESSION_MARKER
            try:
                prepared_by = marker.read_text(encoding="utf-8").strip()
            except OSError:
                prepared_by = ""
            if prepared_by != self._session_id:
                self._trash.discard(root)  # a previous session's leftovers
                root.mkdir(parents=True)
                marker.write_text(self._session_id + "\n", encoding="utf-8")
        self._prepared.add(root)
        self._report.shared_roots.add(str(root))

    def remove_shared(self, roots: Iterable[str]) -> None:
        """Remove the shared dirs of this session (called once, at the very end)."""
        for root in roots:
            self._trash.discard(Path(root))
