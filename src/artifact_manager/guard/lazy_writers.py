"""Layer 2, loaded when it has something to wrap.

:mod:`.writers` and its tables (:mod:`.libraries`) are imported at the first import of a
package they wrap, or at once when one is already imported (a conftest that imports polars).
Most sessions import none of polars, pyarrow, h5py, PyTables or duckdb, and so never load the
tables: about 30 KB of bytecode, which pytest's rewriting import hook reads slowly for an
installed plugin (see docs/performance.md). Until it fires, the finder here costs one set
lookup per import.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import ModuleType

__all__ = ["WRAPPED_PACKAGES", "install"]

#: The top-level packages of the modules in :data:`.libraries.LIBRARIES` (a unit test keeps
#: the two in step).
WRAPPED_PACKAGES = frozenset({"duckdb", "h5py", "polars", "pyarrow", "tables"})


class _FirstImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: at the first import of a wrapped package it leaves
    ``sys.meta_path`` to :mod:`.writers`' finder, and asks that finder about this import."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] not in WRAPPED_PACKAGES:
            return None
        # importlib is iterating sys.meta_path: this finder leaves its place and the writers'
        # finder goes in first, so the finders after this one are still asked in order.
        finder = _install_writers()
        return finder.find_spec(fullname, path, target)


_trigger = _FirstImport()


def _install_writers() -> importlib.abc.MetaPathFinder:
    # Two threads may import two wrapped packages at once (each under its own module lock):
    # the second finds the finder gone.
    with contextlib.suppress(ValueError):
        sys.meta_path.remove(_trigger)
    from artifact_manager.guard import writers
    from artifact_manager.guard.libraries import LIBRARIES

    return writers.install(LIBRARIES)


def install() -> None:
    """Install layer 2: now, if a wrapped package is imported, else at the first import of
    one (idempotent)."""
    if any(package in sys.modules for package in WRAPPED_PACKAGES):
        _install_writers()
    elif _trigger not in sys.meta_path:
        sys.meta_path.insert(0, _trigger)
