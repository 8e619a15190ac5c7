"""``write_table`` against plain polars ``write_parquet`` / ``write_csv`` to the same dir,
alternating, in one run.

``write_table`` is atomic (temp file, rename), hashes the file (SHA-256) and updates the
manifest; in production (durable by default) it also flushes the file and the dir to disk,
in test mode (not durable by default) it does not.

    python tests/benchmarks/bench_write_table.py [--rounds 5] [--sizes 1,100] \\
        [--modes test,production]

Sizes are the frames' in-memory size in MB (int64 + float64 columns).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable

import polars as pl

from artifact_manager import ArtifactConfig, ArtifactManager


def frame(megabytes: int) -> pl.DataFrame:
    rows = megabytes * 1_000_000 // 16
    index = pl.int_range(0, rows)
    return pl.select(position=index, score=(index * 0.618).sin())


def timed(fn: Callable[..., object], *args: object, **kwargs: object) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sizes", default="1,100")
    parser.add_argument("--modes", default="test,production")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        print(f"{args.rounds} rounds, alternating; medians of wall time")
        for mode in args.modes.split(","):
            config = ArtifactConfig(mode=mode, test_name="bench", data_root=tmp)  # type: ignore[arg-type]
            manager = ArtifactManager(config)
            out = manager.get_artifacts_dir(create=True)
            for size in (int(s) for s in args.sizes.split(",")):
                df = frame(size)
                for suffix, plain in ((".parquet", df.write_parquet), (".csv", df.write_csv)):
                    ours, theirs = [], []
                    for _ in range(args.rounds):
                        theirs.append(timed(plain, out / f"plain{suffix}"))
                        ours.append(timed(manager.write_table, df, f"managed{suffix}", force=True))
                    a, b = statistics.median(ours), statistics.median(theirs)
                    file_mb = (out / f"plain{suffix}").stat().st_size / 1e6
                    print(
                        f"{mode:10s} {size:4d} MB frame {suffix:9s} ({file_mb:7.1f} MB file)  "
                        f"write_table {a * 1000:8.1f} ms  polars {b * 1000:8.1f} ms  "
                        f"ratio {a / b:.2f}x"
                    )


if __name__ == "__main__":
    main()
