"""The plugin's cost in instructions (callgrind), which this noisy VM cannot blur.

Wall-clock start-up pairs here move by tens of ms from one run to the next; an instruction
count is the same for the same code. Two suites of plain tests (``--small`` and ``--large``
tests) are run under ``valgrind --tool=callgrind`` with the plugin off, on, and on with the
guard off; per test is the difference divided by the difference in tests, start-up is the
small suite's total minus that many tests' worth, each against the plugin off.

    python tests/benchmarks/bench_instructions.py [--small 100] [--large 500]

Needs ``valgrind`` (Debian: ``apt-get install valgrind``); takes a few minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

VARIANTS = {
    "plugin off": ["-p", "no:artifact_manager"],
    "guard on": [],
    "guard off": ["--artifacts-guard=off"],
}
#: As bench_plugin_overhead.py: the dev environment's unrelated plugins off on both sides.
PYTEST = [sys.executable, "-m", "pytest", "-q"]
PYTEST += ["-p", "no:randomly", "-p", "no:hypothesispytest", "-p", "no:benchmark"]


def instructions(suite: Path, extra: list[str]) -> int:
    """Instructions of one pytest run of ``suite`` under callgrind (after a warm-up run that
    writes the bytecode caches)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # One hash seed: with random ones, dict layouts (and so the count) vary by ~20 k
    # instructions per test from one run of the same code to the next.
    env["PYTHONHASHSEED"] = "0"
    # Run from the suite's parent, as bench_plugin_overhead.py does: pytest's rootdir (and so
    # the default data root, and what the guard watches) must not depend on where this
    # script was started. Started from /tmp/x, the rootdir was /tmp, the guard watched /tmp
    # for the data root to appear, and read pytest's own capture files' events every phase.
    cwd = suite.parent
    subprocess.run(
        [*PYTEST, *extra, str(suite)], env=env, cwd=cwd, capture_output=True, check=False
    )
    callgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    done = subprocess.run(
        [*callgrind, *PYTEST, *extra, str(suite)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    # The first process valgrind names is pytest's; a child it forks reports its own count.
    pid = re.search(r"==(\d+)== Command:", done.stderr)
    found = pid and re.search(rf"=={pid.group(1)}== Collected : (\d+)", done.stderr)
    if not found:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=500)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: apt-get install valgrind")
    with tempfile.TemporaryDirectory() as tmp:
        suites = {}
        for count in (args.small, args.large):
            suite = Path(tmp, f"plain{count}")
            suite.mkdir()
            (suite / "test_plain.py").write_text(
                f"import pytest\n\n\n@pytest.mark.parametrize('n', range({count}))\n"
                "def test_plain(n):\n    pass\n"
            )
            suites[count] = suite
        results = {}
        for name, extra in VARIANTS.items():
            small = instructions(suites[args.small], extra)
            large = instructions(suites[args.large], extra)
            per_test = (large - small) / (args.large - args.small)
            results[name] = (per_test, small - per_test * args.small)
        off_test, off_start = results["plugin off"]
        print(f"plain tests, {args.small} vs {args.large}, instructions (callgrind)")
        for name, (per_test, start) in results.items():
            print(
                f"{name:10s}  per test {per_test / 1e6:6.3f} M ({per_test / off_test - 1:+6.1%})"
                f"  start-up {start / 1e6:8.1f} M ({(start - off_start) / 1e6:+7.1f} M)"
            )


if __name__ == "__main__":
    main()
