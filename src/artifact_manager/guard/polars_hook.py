"""Layer 2: polars writers given a path write from Rust, which raises no audit event.

The writers are wrapped (once per process, when polars is imported, or at the first arming if
it already was) so that, while the guard is armed, the target is checked before the original
writer runs. A writer given a Python file object needs no check here: the ``open`` that made
the file object went through the audit hook. The originals are captured at patch time.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import inspect
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from artifact_manager.guard import audit
from artifact_manager.guard.policy import as_path

__all__ = ["WRITERS", "install", "patched"]

#: (class name, method) pairs wrapped when polars has them.
WRITERS = (
    ("DataFrame", "write_csv"),
    ("DataFrame", "write_parquet"),
    ("DataFrame", "write_ipc"),
    ("DataFrame", "write_ipc_stream"),
    ("DataFrame", "write_json"),
    ("DataFrame", "write_ndjson"),
    ("DataFrame", "write_avro"),
    ("DataFrame", "write_excel"),
    ("DataFrame", "write_delta"),
    ("LazyFrame", "sink_csv"),
    ("LazyFrame", "sink_parquet"),
    ("LazyFrame", "sink_ipc"),
    ("LazyFrame", "sink_ndjson"),
)
_MARK = "__artifact_manager_guarded__"
_state = {"patched": False}


def patched() -> bool:
    return _state["patched"]


def _wrap(cls_name: str, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    parameters = list(inspect.signature(original).parameters)
    target_name = parameters[1] if len(parameters) > 1 else None

    @functools.wraps(original)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        guard = audit.active_guard()
        if guard is not None:
            target = args[0] if args else kwargs.get(target_name or "")
            path = as_path(target)
            if path is not None:
                guard.check(path, f"write with polars {cls_name}.{name}", layer="polars")
        return original(self, *args, **kwargs)

    setattr(guarded, _MARK, True)
    return guarded


def patch(polars: ModuleType) -> None:
    """Wrap polars' path writers (idempotent)."""
    if _state["patched"]:
        return
    for cls_name, name in WRITERS:
        cls = getattr(polars, cls_name, None)
        original = getattr(cls, name, None) if cls is not None else None
        if original is None or getattr(original, _MARK, False):
            continue
        setattr(cls, name, _wrap(cls_name, name, original))
    _state["patched"] = True


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loader of ``polars`` so it is patched once loaded."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "polars" or _state["patched"]:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        patch(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


_finder = _PatchAfterImport()


def install() -> None:
    """Patch polars now if it is imported, else as soon as it is."""
    polars = sys.modules.get("polars")
    if polars is not None:
        patch(polars)
    elif _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
