"""Table baselines: compare a polars frame with a parquet baseline (no pytest needed).

The names below are imported from their modules on first use (PEP 562): the pytest plugin
needs only the baseline files (``store``) in a session that compares no table, and every
session pays for what it imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from artifact_manager.regression.compare import CompareOptions, compare_tables
    from artifact_manager.regression.diff import ColumnDiff, TableDiff
    from artifact_manager.regression.store import (
        BASELINES_DIR,
        BaselineMismatchError,
        baseline_dir,
        baseline_path,
        find_unused,
        list_baselines,
        owner_of,
        prune,
        read_baseline,
        write_baseline,
    )

__all__ = [
    "BASELINES_DIR",
    "BaselineMismatchError",
    "ColumnDiff",
    "CompareOptions",
    "TableDiff",
    "baseline_dir",
    "baseline_path",
    "compare_tables",
    "find_unused",
    "list_baselines",
    "owner_of",
    "prune",
    "read_baseline",
    "write_baseline",
]

_MODULE_OF = {
    "CompareOptions": "compare",
    "compare_tables": "compare",
    "ColumnDiff": "diff",
    "TableDiff": "diff",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_MODULE_OF.get(name, 'store')}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
