"""Checking a frame against its baseline (what ``table_regression.check`` does: read the
parquet baseline, compare) against reading the baseline alone, alternating, in one run.

    python tests/benchmarks/bench_table_regression.py [--rows 1000000] [--rounds 31]

Cases: ``equal`` (the frame is its baseline: the common case), ``within tolerance`` (every
float differs by 1e-12 relative: the full per-column comparison runs, and passes) and
``differs`` (1 % of the scores are off: the comparison and the failure message).
Target: ``equal`` costs at most 2x reading the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from artifact_manager.regression import compare_tables, read_baseline, write_baseline


def stage_output(rows: int) -> pl.DataFrame:
    """A pipeline-like table: ids, a chromosome, positions, a score, a label, a type."""
    index = pl.int_range(0, rows, eager=True)
    return pl.DataFrame(
        {
            "gene_id": ("GENE" + (index // 50).cast(pl.String).str.zfill(6)),
            "chrom": ("chr" + (index % 22 + 1).cast(pl.String)).cast(pl.Categorical),
            "position": index * 7 + 1000,
            "score": (index.cast(pl.Float64) * 0.618).sin().abs(),
            "label": index % 9 == 0,
            "splice_type": pl.Series(["donor", "acceptor"] * (rows // 2) + ["donor"] * (rows % 2)),
        }
    )


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=31)
    args = parser.parse_args()
    frame = stage_output(args.rows)
    cases = {
        "equal": frame,
        "within tolerance": frame.with_columns(pl.col("score") * (1 + 1e-12)),
        "differs": frame.with_columns(
            score=pl.when(pl.int_range(0, pl.len()) % 100 == 0)
            .then(pl.col("score") + 0.1)
            .otherwise("score")
        ),
    }
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        path = Path(tmp) / "__baselines__" / "bench" / "bench-0123456789ab.parquet"
        write_baseline(frame, path)
        size = path.stat().st_size / 1e6
        print(
            f"{args.rows:,} rows, {frame.width} columns, baseline {size:.1f} MB; "
            f"{args.rounds} rounds, alternating; medians of wall time"
        )
        for label, actual in cases.items():

            def check(actual: pl.DataFrame = actual, label: str = label) -> None:
                diff = compare_tables(read_baseline(path), actual)
                message = "\n".join(diff.lines())  # built in the failure path, as check does
                if diff.equal is (label == "differs"):
                    raise RuntimeError(f"{label}: unexpected result\n{message}")

            check()  # warm up (page cache, polars' thread pool)
            ours, reads = [], []
            for round_ in range(args.rounds):  # who goes first alternates too
                if round_ % 2:
                    ours.append(timed(check))
                reads.append(timed(lambda: read_baseline(path)))
                if not round_ % 2:
                    ours.append(timed(check))
            a, b = statistics.median(ours), statistics.median(reads)
            print(
                f"{label:17s} check {a * 1000:7.1f} ms   read_parquet {b * 1000:7.1f} ms   "
                f"ratio {a / b:.2f}x" + ("   (target <= 2.00x)" if label == "equal" else "")
            )


if __name__ == "__main__":
    main()
