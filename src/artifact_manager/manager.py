"""``ArtifactManager``: the seed's methods with the seed's meaning, made safe.

Directories come from :mod:`artifact_manager.layout`; every name a caller passes is checked
to stay inside the dir it names (:func:`~artifact_manager.layout.resolve_inside`).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path, PurePath
from typing import Any

from artifact_manager.config import ArtifactConfig, Coverage, Mode
from artifact_manager.errors import ArtifactPathError
from artifact_manager.layout import Layout, is_internal_name, is_within, resolve_inside
from artifact_manager.testmode import active_forced_test_mode

__all__ = ["ArtifactManager", "create_artifact_manager_from_workflow_config"]


class ArtifactManager:
    """Paths and overwrite policy for one config's artifacts.

    Created while test mode is forced (inside a pytest test), the manager replaces a
    production or differently named config with the running test's test-mode config.
    """

    def __init__(self, config: ArtifactConfig | None = None) -> None:
        config = config if config is not None else ArtifactConfig()
        forced = active_forced_test_mode()
        if forced is not None and (
            config.mode != "test" or config.test_name != forced.resolve_test_name(config.test_name)
        ):
            config = dataclasses.replace(config)  # re-resolves under the forced mode
        self.config: ArtifactConfig = config
        self.layout: Layout = Layout.from_config(config)
        if forced is not None and config.test_name == forced.test_name:
            root = self.layout.test_root
            assert root is not None
            # One key per dir, however it was spelt (relative, through a symlinked parent).
            forced.record_root(Path(os.path.realpath(root.parent)) / root.name)

    def __repr__(self) -> str:
        return f"ArtifactManager({self.config!r})"

    # -- directories -------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self.config.resolved_mode

    def get_artifacts_dir(self, create: bool = False) -> Path:
        """The dir this mode's prediction artifacts live in."""
        return _maybe_create(self.layout.artifacts_dir, create)

    def get_test_root(self, create: bool = False) -> Path | None:
        """``E/tests/<test_name>/`` in test mode (e.g. for ``sampled_genes.tsv``), else None."""
        root = self.layout.test_root
        return None if root is None else _maybe_create(root, create)

    def get_training_data_dir(self, create: bool = False) -> Path:
        """The dir for meta-model training data of this mode."""
        return _maybe_create(self.layout.training_data_dir, create)

    def get_model_checkpoint_dir(self, model_version: str = "latest", create: bool = False) -> Path:
        """``models/<model_version>/`` of this mode; versions must be one plain dir name."""
        return _maybe_create(self.layout.checkpoint_dir(model_version), create)

    # -- artifacts ---------------------------------------------------------------------

    def get_artifact_path(self, name: str | os.PathLike[str], create_dir: bool = False) -> Path:
        """The path of artifact ``name`` (a relative name inside the artifacts dir).

        Raises:
            ArtifactPathError: for an empty, absolute or ``..`` name, or one whose symlinks
                lead out of the artifacts dir.
        """
        path = resolve_inside(self.layout.artifacts_dir, name)
        if is_internal_name(path.name):
            raise ArtifactPathError(
                name,
                "names a file the manager keeps for itself",
                "choose a name that does not start with '.artifacts.'",
            )
        if create_dir:
            path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def should_overwrite(self, path: str | os.PathLike[str], force: bool = False) -> bool:
        """The seed's overwrite table.

        Test mode: always True. Production: True if the file is absent or ``force``.

        Raises:
            ArtifactPathError: if ``path`` is not inside one of this manager's dirs.
        """
        if not any(is_within(path, d) for d in self.layout.owned_dirs):
            raise ArtifactPathError(
                os.fspath(path),
                f"is outside this {self.mode} manager's dirs "
                f"({', '.join(str(d) for d in self.layout.owned_dirs)})",
                "ask the manager that owns the path, or build it with get_artifact_path()",
            )
        if self.mode == "test":
            return True
        return force or not os.path.lexists(path)

    def list_artifacts(self, pattern: str = "*.tsv") -> list[Path]:
        """Sorted artifact files matching ``pattern``; ``[]`` when the dir is missing."""
        pure = PurePath(pattern)
        if not pattern or pure.is_absolute() or ".." in pure.parts:
            raise ArtifactPathError(
                pattern, "glob pattern leaves the artifacts dir", "pass a relative pattern"
            )
        root = self.layout.artifacts_dir
        if not root.is_dir():
            return []
        return sorted(
            p
            for p in root.glob(pattern)
            if p.is_file() and not is_internal_name(p.name) and is_within(p, root)
        )

    # -- summary -----------------------------------------------------------------------

    def get_summary(self) -> dict[str, Any]:
        """What this manager manages, as a JSON-ready dict."""
        artifacts_dir = self.layout.artifacts_dir
        config = self.config
        return {
            "mode": self.mode,
            "coverage": config.coverage,
            "source": config.source,
            "build": config.build,
            "base_model": config.base_model,
            "test_name": config.test_name,
            "base_dir": str(self.layout.base_dir),
            "artifacts_dir": str(artifacts_dir),
            "artifacts_exist": artifacts_dir.is_dir(),
            "artifact_count": len(self.list_artifacts("*")),
            "overwrite_policy": "always" if self.mode == "test" else "explicit_only",
        }

    def print_summary(self) -> None:
        """Print :meth:`get_summary` as aligned ``key: value`` lines."""
        summary = self.get_summary()
        width = max(len(k) for k in summary)
        print("Artifact manager summary")
        for key, value in summary.items():
            print(f"  {key.ljust(width)}  {value}")


def _maybe_create(path: Path, create: bool) -> Path:
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def create_artifact_manager_from_workflow_config(
    mode: Mode | None = None,
    coverage: Coverage | None = None,
    source: str = "ensembl",
    build: str = "GRCh37",
    base_model: str = "spliceai",
    test_name: str | None = None,
    data_root: str | os.PathLike[str] = "data",
) -> ArtifactManager:
    """A manager from a workflow's loose settings (``coverage=None`` means gene_subset)."""
    config = ArtifactConfig(
        mode=mode,
        coverage=coverage if coverage is not None else "gene_subset",
        source=source,
        build=build,
        base_model=base_model,
        test_name=test_name,
        data_root=Path(data_root),
    )
    return ArtifactManager(config)
