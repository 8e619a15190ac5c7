"""The ``artifact-manager`` command line (a thin layer over the core)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from enum import IntEnum

__all__ = ["ExitCode", "main"]


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS_FOUND = 1
    USAGE_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="artifact-manager",
        description="Inspect, validate and clean artifact dirs managed by pytest-artifact-manager.",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return ExitCode.OK
