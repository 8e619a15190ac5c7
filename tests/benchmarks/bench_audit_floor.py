"""What one audit event costs with no hook, with the cheapest hook there is, and with ours.

pytest raises ~22 audit events a plain test (15 ``object.__getattr__``, 3 ``builtins.id``,
3 ``os.putenv``, 1 ``os.unsetenv``), none of which the guard looks at. Once any Python audit
hook is installed, CPython builds each event's name and argument tuple and calls the hooks;
this measures that floor, so that the guard's share of a plain test's cost can be read
against what no Python hook can avoid:

- ``none``: no hook (what a session with the guard off pays);
- ``builtin``: a C builtin as the hook (``operator.is_``: no Python frame, no work);
- ``pyfunc``: the smallest useful Python hook (``def h(event, args)`` that looks the event
  up in a dict and returns): the price of a Python frame per event;
- ``partial``: a C-level dispatch that still does work per event,
  ``functools.partial(setattr, sink)`` (no Python frame; each event sets an attribute named
  after it): what a hook that avoids the frame but not the work would cost;
- ``guard``: the guard's own hook (``artifact_manager.guard.audit``), installed as the
  plugin installs it.

Each is a child process running a loop of ``id()`` calls (one ``builtins.id`` event each)
under ``valgrind --tool=callgrind``, twice (``--small`` and ``--large`` events); the count per
event is the difference divided by the difference in events, less the loop's own cost (the
``none`` row). Without valgrind, wall time per event is printed instead (noisy on a VM).

    python tests/benchmarks/bench_audit_floor.py [--small 1000] [--large 21000]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

CHILD = """
import operator, sys, time
mode, count = sys.argv[1], int(sys.argv[2])
if mode == "builtin":
    sys.addaudithook(operator.is_)
elif mode == "pyfunc":
    WATCHED = {"open": 1}
    def hook(event, args):
        if event not in WATCHED:
            return
    sys.addaudithook(hook)
elif mode == "partial":
    import functools
    class Sink:
        pass
    sys.addaudithook(functools.partial(setattr, Sink()))
elif mode == "guard":
    from artifact_manager.guard import audit
    audit.install()
obj = object()
start = time.perf_counter()
for _ in range(count):
    id(obj)
print(time.perf_counter() - start)
"""
MODES = ("none", "builtin", "pyfunc", "partial", "guard")
# One hash seed: with random ones the hooks' dict lookups land differently from one run to
# the next, and the counts moved by up to ~1,000 instructions an event (Python 3.13).
ENV = {**os.environ, "PYTHONHASHSEED": "0"}


def instructions(mode: str, count: int) -> int:
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            CHILD,
            mode,
            str(count),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def seconds(mode: str, count: int) -> float:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(count)],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=21000)
    args = parser.parse_args()
    events = args.large - args.small
    print(f"Python {sys.version.split()[0]}; a loop of id() calls, one builtins.id event each")
    if shutil.which("valgrind") is None:
        start = time.perf_counter()
        per = {m: min(seconds(m, 10 * args.large) for _ in range(5)) for m in MODES}
        for mode in MODES:
            added = (per[mode] - per["none"]) / (10 * args.large) * 1e9
            print(f"{mode:8s}  +{added:6.0f} ns an event (wall time; valgrind not installed)")
        print(f"({time.perf_counter() - start:.0f} s)")
        return
    per_event = {
        m: (instructions(m, args.large) - instructions(m, args.small)) / events for m in MODES
    }
    for mode in MODES:
        added = per_event[mode] - per_event["none"]
        print(f"{mode:8s}  +{added:6.0f} instructions an event")


if __name__ == "__main__":
    main()
