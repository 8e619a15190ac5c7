"""Where each kind of artifact lives, per mode: pure path arithmetic, no I/O but ``realpath``.

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

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePath

from artifact_manager.config import ArtifactConfig, Mode
from artifact_manager.errors import ArtifactPathError

__all__ = [
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

TESTS_DIRNAME = "tests"
EVAL_SUFFIX = "_eval"
META_MODELS = "meta_models"
PREDICTIONS = "predictions"
TRAINING_DATA = "training_data"
MODELS = "models"
#: Files the manager keeps for itself (manifest, locks, temp files) start with this.
INTERNAL_PREFIX = ".artifacts."
#: The pointer to the newest version, in a dir of versions.
LATEST = "latest"
_VERSION = re.compile(r"v([1-9][0-9]*)_([0-9]{8})")


def version_number(name: str) -> int | None:
    """N of a version dir name ``v<N>_<YYYYMMDD>``, or None for any other name."""
    match = _VERSION.fullmatch(name)
    return int(match.group(1)) if match else None


def is_versioning_name(name: str) -> bool:
    """True for names that belong to versioning: ``v<N>_<date>`` dirs and ``latest``."""
    return name == LATEST or version_number(name) is not None


def eval_dir(data_root: Path, source: str, build: str, base_model: str) -> Path:
    """``data_root/<source>/<build>/<base_model>_eval``."""
    return data_root / source / build / f"{base_model}{EVAL_SUFFIX}"


def lock_path_for(root: Path) -> Path:
    """The lock of test root ``root``: beside the test dirs (``tests/.artifacts.locks/``)."""
    return root.parent / (INTERNAL_PREFIX + "locks") / f"{root.name}.lock"


def is_internal_name(name: str) -> bool:
    """True for the manager's own bookkeeping files."""
    return name.startswith(INTERNAL_PREFIX)


def is_under(path: str, root: str) -> bool:
    """True if ``path`` is ``root`` or below it, comparing the strings as given (both
    resolved the same way by the caller: this is the one definition of "under")."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def is_within(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """True if the real path of ``path`` is ``root``'s real path or below it."""
    return is_under(os.path.realpath(path), os.path.realpath(root))


#: The real path of each root :func:`resolve_inside` has checked names in, tried first: a
#: write names the same dir again and again, and its real path costs an ``lstat`` per part.
_real_roots: dict[str, str] = {}


def _resolves_under(candidate: Path, root: Path) -> bool:
    """:func:`is_within`, with ``root``'s real path remembered (and looked up again when the
    remembered one does not hold the candidate: a root that moved is seen as it is now)."""
    real = os.path.realpath(candidate)
    key = str(root)
    known = _real_roots.get(key)
    if known is not None and is_under(real, known):
        return True
    if len(_real_roots) >= 256:
        _real_roots.clear()
    _real_roots[key] = os.path.realpath(root)
    return is_under(real, _real_roots[key])


def resolve_inside(root: Path, name: object, *, what: str = "artifact name") -> Path:
    """``root / name`` for a relative ``name`` that stays inside ``root``.

    Raises:
        ArtifactPathError: for a non-string, empty, absolute or ``..`` name, a NUL, or a
            name whose symlinks lead out of ``root``.
    """
    remedy = f"pass a relative {what} that stays inside {str(root)!r}"
    if not isinstance(name, (str, os.PathLike)):
        raise ArtifactPathError(name, f"{what} must be a str or path", remedy)
    text = os.fspath(name)
    if not isinstance(text, str) or "\x00" in text:
        raise ArtifactPathError(name, f"{what} is not a text path or contains NUL", remedy)
    pure = PurePath(text)
    if pure.is_absolute() or pure.anchor:
        raise ArtifactPathError(name, f"{what} is absolute", remedy)
    if ".." in pure.parts:
        raise ArtifactPathError(name, f"{what} escapes with '..'", remedy)
    if not pure.parts:
        raise ArtifactPathError(name, f"{what} is empty", remedy)
    candidate = root / pure
    if not _resolves_under(candidate, root):
        raise ArtifactPathError(
            name,
            f"{what} resolves to {os.path.realpath(candidate)!r} through a symlink",
            remedy + "; remove the symlink that leads out",
        )
    return candidate


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
