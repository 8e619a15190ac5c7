"""Table baselines: compare a polars frame with a parquet baseline (no pytest needed)."""

from __future__ import annotations

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
