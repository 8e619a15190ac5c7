"""The plugin's cost per plain test, start-up and collection left out.

One process runs pytest in-process again and again on the same suite of plain tests,
alternating the plugin off (``-p no:artifact_manager``, the baseline), on with the guard off,
and on with the guard on (the default), and times only the run loop: from
``pytest_runtestloop`` to ``pytest_sessionfinish``. Medians of wall time per test, after
one warm-up round. A subprocess per run (``bench_plugin_overhead.py``) also pays the
interpreter's start-up and the plugin's import every time, ~300 ms against ~1 ms of the
difference looked for here. Still, this VM's speed drifts between rounds (the plugin-off
loop moved from 370 to 410 us a test within minutes, and a variant's figure by +-5 us a
test from one invocation to the next): compare the variants of one invocation, and use
``bench_instructions.py`` to compare code.

    python tests/benchmarks/bench_run_loop.py [--tests 3000] [--rounds 9]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytest

PLAIN = """
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_plain(n):
    assert n >= 0
"""
# As bench_plugin_overhead.py: the dev environment's unrelated plugins off on both sides; no
# cache provider (a run in-process would otherwise write .pytest_cache each time).
COMMON = ["-q", "-p", "no:randomly", "-p", "no:hypothesispytest", "-p", "no:benchmark"]
COMMON += ["-p", "no:cacheprovider"]
VARIANTS = {
    "plugin off": ["-p", "no:artifact_manager"],
    "guard off": ["--artifacts-guard=off"],
    "guard on": [],
}


class _LoopTimer:
    """Times the run loop of one in-process session."""

    def __init__(self) -> None:
        self.start = self.end = 0.0

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self) -> None:
        self.start = time.perf_counter()

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self.end = time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp) / "test_plain.py"
        suite.write_text(PLAIN.format(n=args.tests))
        os.chdir(tmp)
        loops: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for round_ in range(args.rounds + 1):  # round 0 warms up
            for name, extra in VARIANTS.items():
                timer = _LoopTimer()
                with contextlib.redirect_stdout(io.StringIO()):
                    code = pytest.main([*COMMON, *extra, str(suite)], plugins=[timer])
                if code != 0:
                    raise SystemExit(f"{name}: the suite failed (exit {code})")
                if round_:
                    loops[name].append(timer.end - timer.start)
    base = statistics.median(loops["plugin off"])
    print(
        f"run loop of {args.tests} plain tests, in-process, {args.rounds} rounds alternating, "
        f"medians; Python {sys.version.split()[0]}, pytest {pytest.__version__}"
    )
    for name, times in loops.items():
        median = statistics.median(times)
        per_test = (median - base) / args.tests * 1e6
        print(
            f"{name:10s}  {median * 1e3:7.1f} ms  {median / base:.3f}x  "
            f"{per_test:+6.2f} us a test  (plugin off: {base / args.tests * 1e6:.0f} us a test)"
        )


if __name__ == "__main__":
    main()
