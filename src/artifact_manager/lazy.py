"""Packages whose public names are imported on first use (PEP 562).

Loading the pytest plugin imports ``artifact_manager`` and a few of its packages; their
public names (the manager, the HTML page, the table comparison) are needed only when a test
or a command uses them, so each such package hands its names to :func:`lazy_exports`. Type
checkers see the names through ``if TYPE_CHECKING:`` imports in the package.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: MutableMapping[str, Any], modules: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of the package whose ``globals()`` is
    ``package``: ``modules`` maps each lazy name to the module it lives in.

    A name is looked up in its module at every access, not stored in the package: a module
    that is dropped from ``sys.modules`` and imported again (pytester's in-process runs do
    this to every module a run imported) then gives its new classes, not stale ones that
    see none of the new modules' state (a stale ``ArtifactConfig`` would not see the forced
    test mode of the running test).
    """
    name_of_package = package["__name__"]

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {name_of_package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return sorted({*package, *package["__all__"]})

    return __getattr__, __dir__
