"""The core library must import without pytest (the plugin is an adapter over it)."""

from __future__ import annotations

import subprocess
import sys

import artifact_manager


def test_core_imports_no_pytest():
    code = (
        "import sys, artifact_manager, artifact_manager.cli;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_api_is_sorted_and_complete():
    assert artifact_manager.__all__ == sorted(artifact_manager.__all__)
    for name in artifact_manager.__all__:
        assert hasattr(artifact_manager, name)


def test_python_dash_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "artifact_manager", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "artifact-manager" in result.stdout
