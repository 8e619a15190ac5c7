"""Per-test overhead of the plugin against pytest's own ``tmp_path``.

Generates suites of N tests (default 1,000) and runs each pair alternately, serial and with
``-n 2``, printing median wall times and their ratios:

- ``artifacts``: each test writes one small file into ``test_artifacts_dir`` (plugin on),
  against the same test writing into ``tmp_path`` with the plugin off;
- ``plain``: tests that use no fixture, plugin on against plugin off (what every test of a
  suite pays for having the plugin installed);
- ``startup``: a one-test suite, plugin on against off (the plugin's import and
  configure cost, paid once per run).

The baseline is what a user would otherwise run: plain pytest with the plugin disabled
(``-p no:artifact_manager``) and default settings. In particular no ``--basetemp``: it
makes pytest delete the whole previous basetemp at session start, a cost a default
``tmp_path`` run does not pay (it keeps the last 3 basetemps and removes older ones), so a
``--basetemp`` baseline is slower and flatters the plugin. Bytecode caches are on, as on a
developer's machine.

    python tests/benchmarks/bench_plugin_overhead.py [--tests 1000] [--rounds 5] [--guard off]
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

ARTIFACTS = """
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_write(test_artifacts_dir, n):
    (test_artifacts_dir / "out.tsv").write_text("a\\tb\\n1\\t2\\n")
"""
TMP_PATH = """
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_write(tmp_path, n):
    (tmp_path / "out.tsv").write_text("a\\tb\\n1\\t2\\n")
"""
PLAIN = """
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_plain(n):
    assert n >= 0
"""
# Only the dev extra's third-party plugins are off (a user's suite has its own); pytest's own
# plugins, the cache provider included, run as they do by default.
COMMON = ["-q", "-p", "no:randomly", "-p", "no:hypothesispytest", "-p", "no:benchmark"]


def run(suite: Path, extra: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *COMMON, *extra, str(suite)],
        cwd=suite.parent,
        capture_output=True,
        text=True,
        # As on a developer's machine: bytecode (and pytest's rewritten-module) caches on.
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"suite failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--guard", default=None, help="value for --artifacts-guard, if any")
    parser.add_argument("--only", default="startup,artifacts,plain", help="what to measure")
    parser.add_argument("--workers", default="serial,2", help="serial and/or worker counts")
    args = parser.parse_args()
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        suites = {}
        templates = (("artifacts", ARTIFACTS), ("tmp_path", TMP_PATH), ("plain", PLAIN))
        templates += (("one", PLAIN.replace("{n}", "1")),)
        for name, template in templates:
            suites[name] = root / f"test_{name}.py"
            suites[name].write_text(template.format(n=args.tests))
        plugin = ["--artifacts-guard", args.guard] if args.guard else []
        off = ["-p", "no:artifact_manager"]  # default tmp_path: no --basetemp (see above)
        pairs = tuple(
            pair
            for pair in (
                (
                    "artifacts",
                    "test_artifacts_dir",
                    "artifacts",
                    plugin,
                    "tmp_path",
                    "tmp_path",
                    off,
                ),
                ("plain", "plugin on", "plain", plugin, "plugin off", "plain", off),
            )
            if pair[0] in only
        )
        print(f"{args.tests} tests, {args.rounds} rounds, alternating; medians of wall time")
        if "startup" in only:
            startup: list[list[float]] = [[], []]
            for _ in range(args.rounds * 2):
                startup[1].append(run(suites["one"], off))
                startup[0].append(run(suites["one"], plugin))
            a, b = statistics.median(startup[0]), statistics.median(startup[1])
            print(f"startup   plugin on {a:6.3f}s  off {b:6.3f}s  added {(a - b) * 1e3:+.0f} ms")
        for workers in args.workers.split(","):
            label, xdist = (
                ("serial", []) if workers == "serial" else (f"-n {workers}", ["-n", workers])
            )
            for pair, ours_label, ours_suite, ours_args, base_label, base_suite, base_args in pairs:
                ours: list[float] = []
                theirs: list[float] = []
                run(suites[base_suite], [*xdist, *base_args])  # one warm-up each
                run(suites[ours_suite], [*xdist, *ours_args])
                for _ in range(args.rounds):
                    theirs.append(run(suites[base_suite], [*xdist, *base_args]))
                    ours.append(run(suites[ours_suite], [*xdist, *ours_args]))
                a, b = statistics.median(ours), statistics.median(theirs)
                print(
                    f"{label:6s} {pair:9s} {ours_label} {a:6.2f}s  {base_label} {b:6.2f}s  "
                    f"ratio {a / b:.3f}x  per test {(a - b) / args.tests * 1e6:+.0f} us"
                )


if __name__ == "__main__":
    main()
