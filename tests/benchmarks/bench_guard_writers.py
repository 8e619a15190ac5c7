"""What layer 2 (native writers checked before they write) costs.

1. Guard off: a session with ``--artifacts-guard=off`` is checked to have installed nothing
   (no import finder, ``pyarrow.parquet.write_table`` and polars writers not wrapped), so
   the cost is zero by construction.
2. The wrapper itself, around a no-op taking a path: bare, wrapped with the guard disarmed
   (between tests), wrapped and armed with an unprotected target (the check runs: realpath
   of the parent, cached per test, and the policy's string compares). The difference is the
   per-call cost (target: under 5 us armed).
3. Real calls with small inputs, wrapped, guard disarmed vs armed, alternating in one process:
   ``pyarrow.parquet.write_table`` into an unprotected dir, ``duckdb`` ``execute("SELECT
   1")`` (the SQL scan's fast path) and a ``COPY ... TO`` (the scan), ``h5py.File(path)`` for
   reading.

    python tests/benchmarks/bench_guard_writers.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from artifact_manager.guard import audit, writers
from artifact_manager.guard.libraries import LIBRARIES
from artifact_manager.guard.policy import GuardPolicy

OFF_CHECK = """
import sys
import polars
import pyarrow.parquet

def test_nothing_installed():
    assert not any(type(f).__name__ == "PatchAfterImport" for f in sys.meta_path)
    for writer in (pyarrow.parquet.write_table, polars.DataFrame.write_parquet):
        assert not getattr(writer, "__artifact_manager_guarded__", False)
"""


def check_off() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "test_off.py").write_text(textwrap.dedent(OFF_CHECK))
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        command += ["-p", "no:randomly", "--artifacts-guard=off", "test_off.py"]
        result = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
    verdict = "nothing installed" if result.returncode == 0 else "INSTALLED:\n" + result.stdout
    print(f"1. guard off: {verdict}")


def per_call(function: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        function()
    return (time.perf_counter() - start) / count


def alternate(
    rounds: int, count: int, variants: dict[str, tuple[Callable[[], object], audit.Checker | None]]
) -> dict[str, float]:
    """Median seconds per call of each variant, run in turn each round (armed or not)."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, (function, guard) in variants.items():
            if guard is None:
                audit.disarm()
            else:
                audit.arm(guard)
            samples[name].append(per_call(function, count))
            audit.disarm()
    return {name: statistics.median(values) for name, values in samples.items()}


def bench_wrapper(rounds: int, guard: audit.Checker, target: Path) -> None:
    def noop(table: object, where: object) -> None:
        return None

    wrapped = writers.wrap("bench", "write with bench", noop, writers.argument(1, "where"))
    found = alternate(
        rounds,
        100_000,
        {
            "bare": (lambda: noop(None, target), None),
            "disarmed": (lambda: wrapped(None, target), None),
            "armed": (lambda: wrapped(None, target), guard),
        },
    )
    bare = found["bare"]
    print(f"2. the wrapper around a no-op, 100,000 calls a sample, {rounds} rounds, medians")
    for name in ("disarmed", "armed"):
        extra = (found[name] - bare) * 1e6
        line = f"   {name:9s} {found[name] * 1e6:6.2f} us   bare {bare * 1e6:5.2f} us"
        print(f"{line}   +{extra:5.2f} us a call")


def bench_real(rounds: int, guard: audit.Checker, out: Path) -> None:
    import duckdb
    import h5py
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"a": [1, 2, 3]})
    con = duckdb.connect()
    h5py.File(out / "r.h5", "w").close()
    copy = f"COPY (SELECT 1 AS a) TO '{out}/c.csv'"
    calls: dict[str, tuple[Callable[[], object], int]] = {
        "pyarrow.parquet.write_table": (lambda: pq.write_table(table, out / "t.pq"), 300),
        "duckdb execute('SELECT 1')": (lambda: con.execute("SELECT 1"), 3_000),
        "duckdb execute('COPY ... TO')": (lambda: con.execute(copy), 300),
        "h5py.File(path) to read": (lambda: h5py.File(out / "r.h5").close(), 1_000),
    }
    print(f"3. real calls into an unprotected dir, {rounds} rounds, medians")
    for label, (function, count) in calls.items():
        found = alternate(rounds, count, {"off": (function, None), "on": (function, guard)})
        off, on = found["off"], found["on"]
        print(
            f"   {label:30s} disarmed {off * 1e6:8.1f} us   armed {on * 1e6:8.1f} us"
            f"   +{(on - off) * 1e6:6.2f} us   ratio {on / off:.3f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    check_off()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        out = root / "work" / "sub"
        out.mkdir(parents=True)
        (root / "data").mkdir()
        guard = audit.Checker(GuardPolicy.build([root / "data"]))
        guard.enter("bench", "call")
        writers.install(LIBRARIES)
        os.chdir(root)
        bench_wrapper(args.rounds, guard, out / "x.pq")
        bench_real(args.rounds, guard, out)


if __name__ == "__main__":
    main()
