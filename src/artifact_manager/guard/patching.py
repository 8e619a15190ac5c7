"""Patching a module from the outside: right after it is first imported, and the names other
modules bound to its functions before.

Layer 2's writers (:mod:`.writers`) and the sqlite3 authorizer (:mod:`.sqlite_authorizer`)
both wrap functions of modules the guard does not import itself. :class:`PatchAfterImport`
patches such a module as soon as it is loaded (one dict lookup per import of anything else);
:func:`rebind_elsewhere` handles a module that was imported before the guard:
``from pyarrow.parquet import write_table as wt`` or ``from sqlite3 import connect`` made
then keep the original, and a one-off scan of ``sys.modules`` puts the wrapper there too.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

__all__ = ["PatchAfterImport", "rebind_elsewhere"]


def rebind_elsewhere(replacements: dict[int, tuple[object, object]], skip: ModuleType) -> None:
    """Replace module-level bindings of the originals (``id(original) -> (original,
    wrapper)``) in every module but ``skip``: one pass over ``sys.modules``."""
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None) if module is not skip else None
        if not isinstance(namespace, dict):
            continue
        for key, value in list(namespace.items()):
            found = replacements.get(id(value))
            if found is not None and found[0] is value:
                namespace[key] = found[1]


class PatchAfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loader of a module named in ``patchers`` so that its
    patcher runs on the module once it is loaded. ``patchers`` may grow after the finder is
    in ``sys.meta_path``."""

    def __init__(self, patchers: Mapping[str, Callable[[ModuleType], None]]) -> None:
        self._patchers = patchers

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        patch = self._patchers.get(fullname)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, patch)
                return spec
        return None

    def install(self) -> None:
        """Put the finder first in ``sys.meta_path`` (idempotent)."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, patch: Callable[[ModuleType], None]) -> None:
        self._loader = loader
        self._patch = patch

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._patch(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)
