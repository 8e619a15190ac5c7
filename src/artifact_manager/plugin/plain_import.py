"""The plugin's own modules load with Python's importer, not pytest's rewriting hook.

pytest marks every top-level package of a ``pytest11`` distribution for assertion rewriting,
so an installed plugin's modules go through pytest's rewriting import hook. That hook reads
its cached pyc with ``marshal.load`` on a buffered file, and CPython's ``marshal`` then calls
the file's ``readinto`` for every item it reads: about 2.5 M instructions a module of ours,
where the standard importer reads the whole pyc and unmarshals it from memory. Loading the
plugin's start-up modules that way took most of its start-up (docs/performance.md, "Start-up
as users install it").

The plugin's ``assert`` statements are internal invariants (type narrowing); none reports a
failure to a user, so rewriting them gives nothing. :func:`install`, called as the plugin's
entry module is imported (before it imports the rest), puts a finder at the front of
``sys.meta_path`` that finds the submodules of ``artifact_manager`` with the standard
:class:`~importlib.machinery.PathFinder`, in the package's own ``__path__``, ahead of
pytest's hook: only public import-system API, the same way this package would be found with
no pytest in the process. What is imported before the finder exists stays rewritten: the
top-level package (with :mod:`artifact_manager.lazy`), the entry module and this module, a
few KB. So the package pytest marked was imported through its hook, and pytest never warns
that it was imported without it. Every other import costs the finder one ``startswith``.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import PathFinder
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import ModuleType

__all__ = ["PlainImport", "install"]

_PREFIX = "artifact_manager."


class PlainImport(importlib.abc.MetaPathFinder):
    """Finds ``artifact_manager``'s submodules as Python's own path finder would."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if path is None or not fullname.startswith(_PREFIX):
            return None  # not ours (a submodule is always asked with its package's __path__)
        return PathFinder.find_spec(fullname, path, target)


_finder = PlainImport()


def install() -> None:
    """Put the finder first in ``sys.meta_path`` (idempotent: once per process)."""
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
