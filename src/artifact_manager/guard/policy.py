"""Is this path protected? The one place every layer of the guard asks.

Protected: everything under the data root except the ``tests/`` trees of the
``<source>/<build>/<model>_eval`` dirs, plus the extra ``protect`` paths; the ``allow`` paths
are exempt. Creating the dirs that lead down to a ``tests/`` tree (``data``, ``data/<source>``,
``.../<model>_eval``, ``.../tests``) is allowed; anything else there is not.

Paths are compared by their real location: the dir holding the entry is resolved through
symlinks and the final name is kept as is (``realpath(parent) / name``, see
:mod:`artifact_manager.guard.resolution`), so removing a symlink that points into production is
not a production write, while writing through a symlinked dir that leads into production is.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from artifact_manager.paths import EVAL_SUFFIX, TESTS_DIRNAME, is_under

__all__ = ["GuardPolicy", "as_path", "fd_path"]

_SEP = os.sep


def _real(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.path.abspath(path))


class GuardPolicy:
    """Which paths the guard protects (all paths real and absolute). Not changed once made."""

    __slots__ = ("_roots", "allow", "data_roots", "protect")

    def __init__(
        self,
        data_roots: tuple[str, ...],
        protect: tuple[str, ...] = (),
        allow: tuple[str, ...] = (),
    ) -> None:
        self.data_roots = data_roots
        self.protect = protect
        self.allow = allow
        self._roots = data_roots + protect

    def __repr__(self) -> str:
        return f"GuardPolicy({self.data_roots!r}, protect={self.protect!r}, allow={self.allow!r})"

    @classmethod
    def build(
        cls,
        data_roots: Iterable[str | os.PathLike[str]],
        protect: Iterable[str | os.PathLike[str]] = (),
        allow: Iterable[str | os.PathLike[str]] = (),
    ) -> GuardPolicy:
        return cls(
            tuple(_real(p) for p in data_roots),
            tuple(_real(p) for p in protect),
            tuple(_real(p) for p in allow),
        )

    @property
    def roots(self) -> tuple[str, ...]:
        """Every protected hierarchy (data roots and extra protected paths)."""
        return self._roots

    def _in_tests_tree(self, path: str, root: str) -> bool:
        rest = path[len(root) :].lstrip(_SEP).split(_SEP)
        # <source>/<build>/<model>_eval/tests[/...]
        return len(rest) >= 4 and rest[2].endswith(EVAL_SUFFIX) and rest[3] == TESTS_DIRNAME

    def _leads_to_tests(self, path: str, root: str) -> bool:
        rest = [p for p in path[len(root) :].split(_SEP) if p]
        if len(rest) <= 2:
            return True  # the data root, <source>, <source>/<build>
        return len(rest) == 3 and rest[2].endswith(EVAL_SUFFIX)

    def is_protected(self, real_path: str, operation: str = "write") -> bool:
        """True if ``operation`` on ``real_path`` (a real absolute path, see
        :func:`~artifact_manager.guard.resolution.real_entry`) would change production.
        ``operation == "mkdir"`` may create the dirs leading down to a ``tests/`` tree."""
        for allowed in self.allow:
            if is_under(real_path, allowed):
                return False
        for root in self.protect:
            if is_under(real_path, root):
                return True
        for root in self.data_roots:
            if not is_under(real_path, root):
                continue
            if self._in_tests_tree(real_path, root):
                return False
            return not (operation == "mkdir" and self._leads_to_tests(real_path, root))
        return False

    def describe(self) -> str:
        parts = [f"data root {r}" for r in self.data_roots]
        parts += [f"protected {p}" for p in self.protect]
        parts += [f"allowed {a}" for a in self.allow]
        return "; ".join(parts)


def as_path(value: object) -> str | None:
    """A str path from an audit event argument (str, bytes or PathLike); None for an fd or
    anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return os.fsdecode(value)
    if isinstance(value, os.PathLike):
        result = os.fspath(value)
        return result if isinstance(result, str) else os.fsdecode(result)
    return None


def fd_path(fd: int) -> str | None:
    """The path an open fd refers to (Linux ``/proc/self/fd``), or None."""
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
    return target if target.startswith(_SEP) else None
