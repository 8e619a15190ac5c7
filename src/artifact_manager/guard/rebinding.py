"""Rebinding the names other modules bound to a function before the guard wrapped it.

``from pyarrow.parquet import write_table as wt`` or ``from sqlite3 import connect`` made
before the guard was installed keeps the original; a one-off scan of ``sys.modules`` puts the
wrapper there too (layer 2's wrappers and the sqlite3 authorizer both use it).
"""

from __future__ import annotations

import sys
from types import ModuleType

__all__ = ["rebind_elsewhere"]


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
