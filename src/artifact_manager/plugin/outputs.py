"""Outputs of the session that strict mode under Landlock cannot allow.

Landlock lets nothing new be made directly in an ancestor of a protected tree (the project
root, when the data root is ``data/`` in it). Outputs whose names are known at start are made
before enforcement (``SessionState.enforce_strict``); these cannot be: pytest-cov's data files
(``.coverage.<host>.<pid>.<random>`` in parallel mode, and sqlite's ``-journal`` beside every
data file) and pytest's numbered temp dirs. Where one of them would be made in such an
ancestor, the session stops at start naming it and the remedy, rather than failing at its end
(or weakening the guard).
"""

from __future__ import annotations

import getpass
import importlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest

__all__ = ["landlock_blind_spots"]


def _is_ancestor(directory: str, roots: Iterable[str]) -> bool:
    prefix = directory.rstrip(os.sep) + os.sep
    return any(root.startswith(prefix) for root in roots)


def _coverage_dir(config: pytest.Config) -> str | None:
    """The dir pytest-cov's data files go to, if pytest-cov measures this session."""
    if not config.pluginmanager.hasplugin("_cov") or not config.getoption("cov_source", None):
        return None
    # pytest-cov is active, so coverage is installed; imported by name, as it is no
    # dependency of ours (and has no stubs where it is absent).
    coverage = importlib.import_module("coverage")

    invocation = Path(config.invocation_params.dir)
    cov_config = config.getoption("cov_config", ".coveragerc")
    if cov_config != ".coveragerc":
        cov_config = str(invocation / cov_config)
    cwd = os.getcwd()
    os.chdir(invocation)
    try:
        data_file = str(coverage.Coverage(config_file=cov_config).get_option("run:data_file"))
    finally:
        os.chdir(cwd)
    return os.path.realpath(os.path.dirname(invocation / data_file))


def _temp_dir(config: pytest.Config) -> str:
    """The dir in which pytest makes this session's temp base dir: the parent of
    ``--basetemp``, else ``<temp root>/pytest-of-<user>`` (as pytest's ``tmpdir.py``)."""
    given = config.getoption("basetemp", None)
    if given:
        return os.path.realpath(Path(config.invocation_params.dir, given).parent)
    root = os.environ.get("PYTEST_DEBUG_TEMPROOT") or tempfile.gettempdir()
    try:
        user = getpass.getuser()
    except (ImportError, KeyError, OSError):
        user = "unknown"
    return os.path.realpath(Path(root, f"pytest-of-{user}"))


def landlock_blind_spots(config: pytest.Config, roots: Iterable[str]) -> list[str]:
    """What this session would make where Landlock forbids it; empty when all is well."""
    roots = [os.path.realpath(r) for r in roots]
    problems = []
    coverage_dir = _coverage_dir(config)
    if coverage_dir is not None and _is_ancestor(coverage_dir, roots):
        problems.append(
            f"pytest-cov writes its data files (.coverage.*, their -journal files) into "
            f"{coverage_dir!r}, an ancestor of the protected data root; point "
            "[tool.coverage.run] data_file (or COVERAGE_FILE) into a dir of its own that "
            "exists before the session, e.g. .coverage-data/.coverage"
        )
    temp_dir = _temp_dir(config)
    made_in = temp_dir if os.path.isdir(temp_dir) else os.path.dirname(temp_dir)
    if _is_ancestor(made_in, roots):
        problems.append(
            f"pytest makes its temp dirs (tmp_path) in {made_in!r}, an ancestor of the "
            "protected data root; pass --basetemp=DIR with DIR's parent outside the data "
            "root's ancestors (e.g. --basetemp=/tmp/pytest-basetemp)"
        )
    return problems
