"""Table baselines: compare a polars frame with a parquet baseline (no pytest needed).

The names below are imported from their modules on first use (PEP 562): the pytest plugin
needs only the baseline files (``store``) in a session that compares no table, and every
session pays for what it imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from artifact_manager.lazy import lazy_exports

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

_MODULES = {
    "BASELINES_DIR": "artifact_manager.regression.store",
    "BaselineMismatchError": "artifact_manager.regression.store",
    "ColumnDiff": "artifact_manager.regression.diff",
    "CompareOptions": "artifact_manager.regression.compare",
    "TableDiff": "artifact_manager.regression.diff",
    "baseline_dir": "artifact_manager.regression.store",
    "baseline_path": "artifact_manager.regression.store",
    "compare_tables": "artifact_manager.regression.compare",
    "find_unused": "artifact_manager.regression.store",
    "list_baselines": "artifact_manager.regression.store",
    "owner_of": "artifact_manager.regression.store",
    "prune": "artifact_manager.regression.store",
    "read_baseline": "artifact_manager.regression.store",
    "write_baseline": "artifact_manager.regression.store",
}

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
