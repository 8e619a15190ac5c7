"""What the production guard costs.

1. ``open()`` in an unprotected dir, guard armed vs not installed at all, alternating, in one
   process: a read (``open(p).close()``) and a write (``open(p, "w").close()``).
2. A 200-test suite (each test writes one small file into ``test_artifacts_dir``) with
   production trees of 1k, 10k and 100k files: wall time with the guard on, and the time
   spent per test, so that growth with the tree shows.

    python tests/benchmarks/bench_guard.py [--rounds 5] [--skip-suite]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from artifact_manager.guard import audit
from artifact_manager.guard.policy import GuardPolicy

SUITE = """
import pytest

@pytest.mark.parametrize("n", range(200))
def test_write(test_artifacts_dir, n):
    (test_artifacts_dir / "out.tsv").write_text("a\\tb\\n")
"""


def time_opens(path: Path, mode: str, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        open(path, mode).close()
    return (time.perf_counter() - start) / count


def bench_open(rounds: int, count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        target = root / "work" / "file.txt"
        target.parent.mkdir()
        target.write_text("x")
        guard = audit.Checker(GuardPolicy.build([root / "data"]))
        guard.enter("bench", "call")
        print(f"open() in an unprotected dir, {count} per sample, {rounds} rounds, medians")
        for mode in ("r", "w"):
            off: list[float] = []
            on: list[float] = []
            for _ in range(rounds):
                audit.disarm()
                off.append(time_opens(target, mode, count))
                audit.arm(guard)
                on.append(time_opens(target, mode, count))
                audit.disarm()
            a, b = statistics.median(on), statistics.median(off)
            label = "read " if mode == "r" else "write"
            print(
                f"  {label}  armed {a * 1e6:6.2f} us   off {b * 1e6:6.2f} us   ratio {a / b:.2f}x"
            )


def make_tree(root: Path, files: int) -> None:
    meta = root / "data" / "ensembl" / "GRCh37" / "spliceai_eval" / "meta_models"
    per_dir = 100
    for index in range(files):
        d = meta / f"chunk{index // per_dir:04d}"
        if index % per_dir == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"f{index}.tsv").write_bytes(b"")


def run_suite(root: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            "-p",
            "no:benchmark",
            "test_suite.py",
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(result.stdout + result.stderr)
    return time.perf_counter() - start


def bench_suite(rounds: int) -> None:
    print(f"200-test suite, guard on, {rounds} rounds, medians")
    base = None
    for files in (1_000, 10_000, 100_000):
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
            root = Path(tmp)
            make_tree(root, files)
            (root / "test_suite.py").write_text(SUITE)
            wall = statistics.median(run_suite(root) for _ in range(rounds))
            base = base or wall
            print(f"  {files:7d} production files  {wall:6.2f} s   ratio to 1k {wall / base:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--opens", type=int, default=20_000)
    parser.add_argument("--skip-suite", action="store_true")
    args = parser.parse_args()
    bench_open(args.rounds, args.opens)
    if not args.skip_suite:
        bench_suite(args.rounds)


if __name__ == "__main__":
    main()
