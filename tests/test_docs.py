"""The docs stay true: runnable blocks run, and every option is documented."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
RUNNABLE = re.compile(r"<!-- runnable -->\s*\n```python\n(.*?)```", re.DOTALL)
RUNNABLE_TEST = re.compile(
    r"<!-- runnable-test(?:\(exit=(\d+)\))?:(.*?)-->\s*\n```python\n(.*?)```", re.DOTALL
)
PAGES = sorted(p for p in DOCS.glob("*.md") if RUNNABLE.search(p.read_text()))
TEST_BLOCKS = [
    pytest.param(int(exit_code or 0), args.strip(), code, id=f"{page.name}-{index}")
    for page in sorted(DOCS.glob("*.md"))
    for index, (exit_code, args, code) in enumerate(RUNNABLE_TEST.findall(page.read_text()))
]
LEAN = {"PYTEST_ADDOPTS": "-p no:hypothesispytest -p no:benchmark -p no:randomly"}


def test_there_are_runnable_pages_and_test_blocks():
    assert PAGES
    assert TEST_BLOCKS


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_runnable_blocks_pass(page, tmp_path):
    script = "\n".join(RUNNABLE.findall(page.read_text()))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("exit_code", "args", "code"), TEST_BLOCKS)
def test_runnable_test_blocks_pass(exit_code, args, code, tmp_path):
    (tmp_path / "test_doc_example.py").write_text(code)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *shlex.split(args)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **LEAN},
    )
    assert result.returncode == exit_code, result.stdout + result.stderr


def test_every_plugin_option_is_documented(pytester):
    help_text = pytester.runpytest("--help").stdout.str()
    group = help_text.split("per-test artifact dirs (pytest-artifact-manager):")[1]
    group = group.split("\n\n")[0]
    options = set(re.findall(r"^\s+(--[a-z-]+)", group, re.MULTILINE))
    ini_keys = set(re.findall(r"^\s+(artifacts_[a-z_]+) ", help_text, re.MULTILINE))
    assert "--keep-artifacts" in options
    assert "artifacts_keep" in ini_keys
    documented = (DOCS / "options.md").read_text()
    missing = sorted(n for n in options | ini_keys if f"`{n}" not in documented)
    assert missing == []
