"""Where table baselines live, how they are written and read, and which are unused.

A baseline is a parquet file (parquet keeps dtypes) at
``<test file dir>/__baselines__/<module stem>/<test name>[.<name>].parquet``; the test name
is :func:`artifact_manager.naming.nodeid_to_test_name` of the test's node id, so a baseline's
name is the same in a serial run and on every xdist worker. Writes are atomic (a temp file
beside the target, flushed, renamed over it), so concurrent writers of different baselines
never collide and a reader never sees half a file.

A ``__baselines__`` or ``__baselines__/<module stem>`` dir that is a symlink may be shared
with other modules or projects: its baselines are read and written through it, but never
judged unused (so never pruned).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from artifact_manager.errors import (
    ArtifactConfigError,
    ArtifactError,
    ArtifactPathError,
    ArtifactUsageError,
)
from artifact_manager.paths import BASELINES_DIR, INTERNAL_PREFIX

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "BASELINES_DIR",
    "SUFFIX",
    "BaselineMismatchError",
    "baseline_dir",
    "baseline_path",
    "find_unused",
    "in_the_way",
    "list_baselines",
    "owner_of",
    "prune",
    "read_baseline",
    "write_baseline",
]

SUFFIX = ".parquet"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}")
#: Where a test name can end inside a baseline's file name: ``-<12 hex digits>`` then ``.``.
_TEST_NAME_END = re.compile(r"-[0-9a-f]{12}(?=\.)")


class BaselineMismatchError(ArtifactError, AssertionError):
    """A table does not match its baseline, or has none: the test fails with the diff."""

    __module__ = "artifact_manager.regression"  # where users import it from
    _fields = ("path", "problem", "remedy")

    def __init__(self, path: str, problem: str, remedy: str) -> None:
        super().__init__(path, problem, remedy)
        self._path = path
        self._problem = problem
        self._remedy = remedy

    @property
    def path(self) -> str:
        return self._path

    @property
    def problem(self) -> str:
        return self._problem

    @property
    def remedy(self) -> str:
        return self._remedy

    def __str__(self) -> str:
        return f"{self._problem}\n{self._remedy}"


def baseline_dir(test_file: Path) -> Path:
    """The dir holding the baselines of the tests in ``test_file``."""
    return test_file.parent / BASELINES_DIR / test_file.stem


def baseline_path(test_file: Path, test_name: str, name: str | None = None) -> Path:
    """The baseline of test ``test_name`` (in ``test_file``), for its check called ``name``.

    Raises:
        ArtifactConfigError: ``name`` is not a plain file-name part.
    """
    if name is not None and (
        not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name
    ):
        raise ArtifactConfigError(
            "name",
            name,
            "is not a plain name for a baseline file",
            "use up to 100 letters, digits, '.', '_' or '-' (no '..'), e.g. name='scores'",
        )
    stem = test_name if name is None else f"{test_name}.{name}"
    return baseline_dir(test_file) / f"{stem}{SUFFIX}"


def in_the_way(path: Path) -> str | None:
    """What keeps a baseline from being read or written at ``path``: a dir in its place, or
    a file where one of its dirs should be; None when nothing does."""
    if path.is_dir():
        return "it is a directory, not a file"
    for parent in path.parents:
        if parent.is_dir():
            return None
        if os.path.lexists(parent):
            return f"{parent} is a file, not a directory"
    return None


def write_baseline(frame: pl.DataFrame, path: Path) -> None:
    """Write ``frame`` as the baseline at ``path``, atomically (replacing an old one).

    Raises:
        ArtifactPathError: a dir is at ``path``, or a file where one of its dirs should be.
        ArtifactUsageError: parquet cannot store ``frame`` (a column of dtype Object).
    """
    import polars as pl

    from artifact_manager.regression.compare import _polars_errors
    from artifact_manager.storage.atomic import publish, temp_sibling

    problem = in_the_way(path)
    if problem is not None:
        raise ArtifactPathError(
            str(path),
            f"cannot be written: {problem}",
            "move that aside (or delete it), then write the baseline again",
        )
    objects = [c for c, dtype in frame.schema.items() if dtype == pl.Object]
    if objects:
        raise ArtifactUsageError(
            "write_baseline",
            objects[0] if len(objects) == 1 else tuple(objects),
            f"{'has' if len(objects) == 1 else 'have'} dtype Object, which parquet cannot "
            f"store (baseline {path})",
            "convert it to a dtype parquet keeps before the check, e.g. "
            f"df.with_columns(pl.col({objects[0]!r}).map_elements(str, "
            "return_dtype=pl.String))",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with temp_sibling(path) as temp:
        try:
            frame.write_parquet(temp)
        except OSError:
            raise
        except _polars_errors() as error:
            raise ArtifactUsageError(
                "write_baseline",
                str(path),
                f"cannot be written as parquet: {error}",
                "convert the columns polars cannot write to parquet to other dtypes",
            ) from error
        publish(temp, path, replace=True)


def read_baseline(path: Path) -> pl.DataFrame:
    import polars as pl

    return pl.read_parquet(path)


def list_baselines(directory: Path) -> list[Path]:
    """The baseline files in ``directory`` (sorted; temp files left by a crash excluded)."""
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(
        Path(e.path)
        for e in entries
        if e.name.endswith(SUFFIX)
        and not e.name.startswith(INTERNAL_PREFIX)
        and e.is_file(follow_symlinks=False)
    )


def owner_of(file_name: str, test_names: Collection[str]) -> str | None:
    """The test name in ``test_names`` whose baseline ``file_name`` is, or None."""
    for end in _TEST_NAME_END.finditer(file_name):
        candidate = file_name[: end.end()]
        if candidate in test_names:
            return candidate
    return None


def find_unused(
    directories: Iterable[Path], checked: Iterable[str], outcomes: Mapping[str, str]
) -> list[Path]:
    """Baselines in ``directories`` that no test checked and no test may still need.

    ``outcomes`` maps the test name of every collected test to its outcome (the last
    attempt's). A baseline nobody checked is unused when no collected test owns it, or when
    its owner passed without checking it; a test that was skipped, failed or did not run
    might have checked it, so its baselines are never called unused. A dir that is, or
    whose ``__baselines__`` is, a symlink is not judged (see the module docs).
    """
    seen = {os.path.realpath(p) for p in checked}
    unused = []
    for directory in sorted(set(directories)):
        if directory.is_symlink() or directory.parent.is_symlink():
            continue  # maybe shared: its other baselines are not this run's to judge
        for path in list_baselines(directory):
            if os.path.realpath(path) in seen:
                continue
            owner = owner_of(path.name, outcomes)
            if owner is None or outcomes[owner] == "passed":
                unused.append(path)
    return unused


def prune(paths: Iterable[Path]) -> list[Path]:
    """Delete the baseline files ``paths`` (a symlink is removed, never its target);
    returns those deleted."""
    deleted = []
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue
        deleted.append(path)
    return deleted
