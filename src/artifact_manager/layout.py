"""Where each kind of artifact lives, per mode: pure path arithmetic (names: :mod:`.paths`).

With ``E = data_root/<source>/<build>/<base_model>_eval``:

=================  ========================  =============================================
what               production                test
=================  ========================  =============================================
artifacts dir      ``E/meta_models/``        ``E/tests/<test_name>/meta_models/predictions/``
test root          --                        ``E/tests/<test_name>/``
training data      ``E/training_data/``      ``E/tests/<test_name>/training_data/``
checkpoints        ``E/models/<version>/``   ``E/tests/<test_name>/models/<version>/``
=================  ========================  =============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from artifact_manager.errors import ArtifactPathError
from artifact_manager.paths import (
    EVAL_SUFFIX,
    INTERNAL_PREFIX,
    LATEST,
    META_MODELS,
    MODELS,
    PREDICTIONS,
    TESTS_DIRNAME,
    TRAINING_DATA,
    eval_dir,
    is_internal_name,
    is_under,
    is_versioning_name,
    is_within,
    lock_path_for,
    resolve_inside,
    version_number,
)

if TYPE_CHECKING:
    from artifact_manager.config import ArtifactConfig, Mode

__all__ = [
    "EVAL_SUFFIX",
    "INTERNAL_PREFIX",
    "LATEST",
    "TESTS_DIRNAME",
    "Layout",
    "eval_dir",
    "is_internal_name",
    "is_under",
    "is_versioning_name",
    "is_within",
    "lock_path_for",
    "resolve_inside",
    "version_number",
]


@dataclass(frozen=True)
class Layout:
    """The dirs of one config. Pure: nothing is created or checked on disk.

    Each dir is computed once per layout (a manager asks for them many times).
    """

    eval_dir: Path
    mode: Mode
    test_name: str | None

    @classmethod
    def from_config(cls, config: ArtifactConfig) -> Layout:
        return cls(
            eval_dir(config.data_root, config.source, config.build, config.base_model),
            config.resolved_mode,
            config.test_name,
        )

    @cached_property
    def tests_root(self) -> Path:
        """``E/tests``: every test root lives directly below it."""
        return self.eval_dir / TESTS_DIRNAME

    @cached_property
    def test_root(self) -> Path | None:
        """``E/tests/<test_name>`` in test mode, ``None`` in production."""
        if self.mode == "production" or self.test_name is None:
            return None
        return self.tests_root / self.test_name

    @cached_property
    def mode_root(self) -> Path:
        """The dir everything of this mode lives in: the test root, or ``E``."""
        return self.test_root or self.eval_dir

    @cached_property
    def artifacts_dir(self) -> Path:
        if self.test_root is None:
            return self.eval_dir / META_MODELS
        return self.test_root / META_MODELS / PREDICTIONS

    @cached_property
    def training_data_dir(self) -> Path:
        return self.mode_root / TRAINING_DATA

    @cached_property
    def models_dir(self) -> Path:
        return self.mode_root / MODELS

    @cached_property
    def owned_dirs(self) -> tuple[Path, ...]:
        """The dirs whose files this layout's manager may write."""
        if self.test_root is not None:
            return (self.test_root,)
        return (self.artifacts_dir, self.training_data_dir, self.models_dir)

    def checkpoint_dir(self, version: str) -> Path:
        """``models/<version>``, refusing versions that are not one plain dir name."""
        if isinstance(version, str) and ("/" in version or "\\" in version):
            raise ArtifactPathError(
                version,
                "model version contains a path separator",
                "pass a single dir name such as 'v1.0' or 'latest'",
            )
        return resolve_inside(self.models_dir, version, what="model version")
