"""The plugin's cost in instructions (callgrind), which this noisy VM cannot blur.

Wall-clock start-up pairs here move by tens of ms from one run to the next; an instruction
count is the same for the same code. Two suites of plain tests (``--small`` and ``--large``
tests) are run under ``valgrind --tool=callgrind`` with the plugin off, on, and on with the
guard off; per test is the difference divided by the difference in tests, start-up is the
small suite's total minus that many tests' worth, each against the plugin off.

    python tests/benchmarks/bench_instructions.py [--small 100] [--large 500] [--wheel]

``--wheel`` measures the plugin as users install it: the wheel built from this checkout,
installed with its dependencies into a fresh virtualenv (pip must be able to fetch them).
pytest marks every top-level package of a ``pytest11`` distribution for assertion rewriting,
so an installed plugin's modules are loaded through pytest's rewriting import hook (an
editable install under pytest < 9.2 is not marked). ``--assert=plain`` rows show that
hook's share.

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
#: With --wheel: the same with pytest's assertion rewriting off.
PLAIN_ASSERT_VARIANTS = {
    "plugin off, --assert=plain": ["-p", "no:artifact_manager", "--assert=plain"],
    "guard on, --assert=plain": ["--assert=plain"],
}
#: As bench_plugin_overhead.py: the dev environment's unrelated plugins off on both sides.
PLUGINS_OFF = ["-p", "no:randomly", "-p", "no:hypothesispytest", "-p", "no:benchmark"]


def installed_wheel(tmp: Path) -> str:
    """The Python of a fresh virtualenv holding the wheel built from this checkout."""
    checkout = Path(__file__).resolve().parents[2]
    wheels = tmp / "wheels"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(wheels), str(checkout)],
        check=True,
        capture_output=True,
    )
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    [wheel] = wheels.glob("*.whl")
    subprocess.run([python, "-m", "pip", "install", "-q", str(wheel)], check=True)
    return python


def instructions(python: str, suite: Path, extra: list[str]) -> int:
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
    pytest = [python, "-m", "pytest", "-q", *PLUGINS_OFF]
    subprocess.run(
        [*pytest, *extra, str(suite)], env=env, cwd=cwd, capture_output=True, check=False
    )
    callgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    done = subprocess.run(
        [*callgrind, *pytest, *extra, str(suite)],
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
    parser.add_argument("--wheel", action="store_true", help="measure an installed wheel")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: apt-get install valgrind")
    with tempfile.TemporaryDirectory() as tmp:
        python = installed_wheel(Path(tmp)) if args.wheel else sys.executable
        variants = {**VARIANTS, **(PLAIN_ASSERT_VARIANTS if args.wheel else {})}
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
        for name, extra in variants.items():
            small = instructions(python, suites[args.small], extra)
            large = instructions(python, suites[args.large], extra)
            per_test = (large - small) / (args.large - args.small)
            results[name] = (per_test, small - per_test * args.small)
        versions = subprocess.run(
            [python, "-c", "import pytest, sys; print(sys.version.split()[0], pytest.__version__)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        install = "wheel in a virtualenv" if args.wheel else "this environment"
        print(
            f"plain tests, {args.small} vs {args.large}, instructions (callgrind); "
            f"Python {versions[0]}, pytest {versions[1]}, {install}"
        )
        for name, (per_test, start) in results.items():
            # Each row against the plugin off with the same assertion mode.
            off_test, off_start = results[
                "plugin off, --assert=plain" if "plain" in name else "plugin off"
            ]
            print(
                f"{name:27s}  per test {per_test / 1e6:6.3f} M ({per_test / off_test - 1:+6.1%})"
                f"  start-up {start / 1e6:8.1f} M ({(start - off_start) / 1e6:+7.1f} M)"
            )


if __name__ == "__main__":
    main()
