"""The layout's vocabulary: its reserved names, the default eval dir and the path rules.

Constants and pure functions (no I/O but ``lstat``, ``realpath`` and ``pathconf``),
importing nothing of the package but its errors: the guard, the storage modules and the
plugin's start-up use them without importing the config and layout dataclasses (whose
creation alone costs ~1 ms each at start-up). :mod:`~artifact_manager.layout` and
:mod:`~artifact_manager.config` re-export them under their old names.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePath

from artifact_manager.errors import ArtifactPathError

__all__ = [
    "BASELINES_DIR",
    "DEFAULT_BASE_MODEL",
    "DEFAULT_BUILD",
    "DEFAULT_DATA_ROOT",
    "DEFAULT_NAME_MAX",
    "DEFAULT_SOURCE",
    "ENV_DATA_ROOT",
    "EVAL_SUFFIX",
    "FITS_ANYWHERE",
    "INTERNAL_PREFIX",
    "LATEST",
    "META_MODELS",
    "MODELS",
    "PREDICTIONS",
    "TESTS_DIRNAME",
    "TRAINING_DATA",
    "encoded_name",
    "eval_dir",
    "fits_anywhere",
    "fitted_name",
    "is_internal_name",
    "is_under",
    "is_versioning_name",
    "is_within",
    "lock_path_for",
    "name_max",
    "refuse_linked_tests_root",
    "resolve_inside",
    "version_number",
]

# The default eval dir, data/ensembl/GRCh37/spliceai_eval: the one definition of each default
# (the config, the plugin's options and the CLI use these).
DEFAULT_SOURCE = "ensembl"
DEFAULT_BUILD = "GRCh37"
DEFAULT_BASE_MODEL = "spliceai"
DEFAULT_DATA_ROOT = Path("data")
#: The environment variable naming the data root (read by the pytest plugin and the CLI).
ENV_DATA_ROOT = "ARTIFACTS_DATA_ROOT"

TESTS_DIRNAME = "tests"
EVAL_SUFFIX = "_eval"
META_MODELS = "meta_models"
PREDICTIONS = "predictions"
TRAINING_DATA = "training_data"
MODELS = "models"
#: Files the manager keeps for itself (manifest, locks, temp files) start with this.
INTERNAL_PREFIX = ".artifacts."
#: Beside a test file: the dir of its table baselines (:mod:`artifact_manager.regression`).
BASELINES_DIR = "__baselines__"
#: The pointer to the newest version, in a dir of versions.
LATEST = "latest"
_VERSION = re.compile(r"v([1-9][0-9]*)_([0-9]{8})")
#: The longest file name, in bytes, where the file system does not say: Linux's NAME_MAX
#: (ext4, xfs, btrfs, tmpfs), also macOS's; Windows counts 255 UTF-16 units, never fewer.
DEFAULT_NAME_MAX = 255
#: The longest name, in bytes, that fits in every file system data lives on (eCryptfs, the
#: smallest of them, allows 143), so its dir's own limit need not be asked.
FITS_ANYWHERE = 143


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


def refuse_linked_tests_root(tests_root: Path) -> None:
    """Raise if the tests root itself (the ``tests`` dir) is a symlink: test dirs are never
    made, emptied, reaped or cleaned through one. A link above it (the data root, the eval
    dir) is fine: only the tests dir and what is below it are the manager's to remove.

    Raises:
        ArtifactPathError: naming the tests root, its target and the remedy.
    """
    if os.path.islink(tests_root):
        raise ArtifactPathError(
            str(tests_root),
            f"the tests root is a symlink (to {os.readlink(tests_root)!r}); test dirs are "
            "never made, emptied or removed through one",
            "replace the symlink with a real dir (to keep test dirs on another disk, link "
            "the data root or another dir above the tests root instead)",
        )


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


#: The file name limit of each dir :func:`name_max` was asked about (one ``pathconf`` each).
_name_max_of: dict[str, int] = {}


def name_max(directory: str | os.PathLike[str]) -> int:
    """The longest file name, in bytes, allowed in ``directory``: ``PC_NAME_MAX`` of it or,
    while it does not exist yet, of its nearest existing ancestor (remembered per dir);
    :data:`DEFAULT_NAME_MAX` where the OS does not say (Windows has no ``pathconf``)."""
    key = os.fspath(directory)
    known = _name_max_of.get(key)
    if known is not None:
        return known
    limit = DEFAULT_NAME_MAX
    pathconf = getattr(os, "pathconf", None)
    path = key or "."
    while pathconf is not None:
        try:
            found = pathconf(path, "PC_NAME_MAX")
        except (FileNotFoundError, NotADirectoryError):
            parent = os.path.dirname(path) or "."
            if parent == path:
                break
            path = parent
            continue
        except (OSError, ValueError):  # no such setting here
            break
        if found is not None and found > 0:  # -1 or None: no limit the OS knows of
            limit = found
        break
    if len(_name_max_of) >= 256:
        _name_max_of.clear()
    _name_max_of[key] = limit
    return limit


def encoded_name(name: str) -> bytes:
    """``name`` as the file system gets it (:func:`os.fsencode`): a limit counts these bytes."""
    try:
        return os.fsencode(name)
    except UnicodeError:  # a lone surrogate no file system takes: count it as UTF-8 would
        return name.encode("utf-8", "surrogatepass")


def fits_anywhere(name: str) -> bool:
    """True for a name no file system data lives on refuses for its length: at most
    :data:`FITS_ANYWHERE` bytes. Such names need no :func:`name_max` (a ``pathconf`` per
    dir, up to ~14 us for a dir not made yet: most names, and every test's new dir)."""
    return len(name) <= FITS_ANYWHERE // 4 or len(encoded_name(name)) <= FITS_ANYWHERE


def fitted_name(
    head: str,
    name: str,
    tail: str = "",
    *,
    limit: int = DEFAULT_NAME_MAX,
    directory: str | os.PathLike[str] | None = None,
) -> str:
    """``head + name + tail``, the name of a file the manager keeps beside ``name`` (a temp
    file, a lock), made to fit in ``limit`` bytes: when it is longer, ``name`` becomes 12 hex
    digits of its SHA-256, ``-`` and as much of its end as fits, so the file still ends like
    ``name`` (its suffix: polars picks formats by it) and still differs per ``name``.
    ``head`` and ``tail`` are kept whole (a prefix that marks the file as the manager's).
    ``directory``: take ``limit`` from the dir the file goes in (:func:`name_max`)."""
    whole = head + name + tail
    if directory is not None:  # the limit of the dir the file goes in, if it can matter
        if fits_anywhere(whole):
            return whole
        limit = name_max(directory)
    if len(encoded_name(whole)) <= limit:
        return whole
    import hashlib  # here: loading OpenSSL costs ~2 ms, and only long names come here

    raw = encoded_name(name)
    digest = hashlib.sha256(raw).hexdigest()[:12] + "-"
    budget = limit - len(encoded_name(head + digest + tail))
    end = raw[-budget:] if budget > 0 else b""
    while end and 0x80 <= end[0] < 0xC0:  # a cut UTF-8 character: drop its rest
        end = end[1:]
    return head + digest + os.fsdecode(end) + tail


#: The real path of each root :func:`resolve_inside` has checked names in, tried first: a
#: write names the same dir again and again, and its real path costs an ``lstat`` per part.
_real_roots: dict[str, str] = {}


def _no_link_below(root: Path, parts: tuple[str, ...]) -> bool:
    """True if no entry of ``root/parts...`` below ``root`` that exists is a symlink: then
    the candidate's real path is ``realpath(root)/parts`` and stays inside ``root``, found
    with one ``lstat`` a part (``realpath`` costs one a part of the whole path, from ``/``)."""
    path = os.fspath(root)
    for part in parts:
        path = os.path.join(path, part)
        try:
            mode = os.lstat(path).st_mode
        except OSError:  # missing (so is the rest) or unreadable: realpath keeps it as is
            return True
        if stat.S_ISLNK(mode):
            return False
    return True


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


def _check_lengths(root: Path, name: object, parts: tuple[str, ...], what: str) -> None:
    """Refuse a part of ``name`` no file system dir below ``root`` can hold, before anything
    is written (the OS would refuse it at the first write, naming a temp file)."""
    if all(fits_anywhere(part) for part in parts):
        return  # (most names: the dir is not asked)
    limit = name_max(root)
    for part in parts:
        size = len(encoded_name(part))
        if size > limit:
            which = what if len(parts) == 1 else f"{what} part {part!r}"
            raise ArtifactPathError(
                name,
                f"{which} is {size} bytes long ({len(part)} characters, in UTF-8), more "
                f"than the {limit} bytes a file name may have in {str(root)!r}",
                f"shorten it to at most {limit} bytes, or split it into dirs ('a/b.tsv')",
            )


def resolve_inside(root: Path, name: object, *, what: str = "artifact name") -> Path:
    """``root / name`` for a relative ``name`` that stays inside ``root``.

    Raises:
        ArtifactPathError: for a non-string, empty, absolute or ``..`` name, a NUL, a part
            longer than the file system allows in ``root`` (:func:`name_max`, in bytes), or a
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
    _check_lengths(root, name, pure.parts, what)
    candidate = root / pure
    if not _no_link_below(root, pure.parts) and not _resolves_under(candidate, root):
        raise ArtifactPathError(
            name,
            f"{what} resolves to {os.path.realpath(candidate)!r} through a symlink",
            remedy + "; remove the symlink that leads out",
        )
    return candidate
