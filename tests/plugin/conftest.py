from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

EVAL = Path("ensembl/GRCh37/spliceai_eval")


@pytest.fixture(autouse=True)
def _lean_inner_sessions(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep unrelated plugins out of inner sessions: hypothesis alone costs ~2 s a run
    (pytester drops the modules an in-process run imported), and pytest-benchmark, where a
    machine has it, warns under xdist. Set after pytester, which clears PYTEST_ADDOPTS."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest -p no:benchmark")


@pytest.fixture(
    params=[
        pytest.param([], id="serial"),
        # slow: the lowest-versions CI leg runs the serial variants (xdist itself is proven
        # there by the guard corpus and the example suite, both under -n 2).
        pytest.param(["-n", "2"], id="xdist", marks=pytest.mark.slow),
    ]
)
def plugin_args(request: pytest.FixtureRequest) -> list[str]:
    """Run a behaviour both ways: serial and under pytest-xdist with two workers."""
    return list(request.param)


@pytest.fixture
def production(pytester: pytest.Pytester) -> Path:
    """The inner session's production artifacts dir, holding one artifact ``p.tsv``."""
    path = pytester.path / "data" / EVAL / "meta_models"
    path.mkdir(parents=True)
    (path / "p.tsv").write_text("production\n")
    return path


@pytest.fixture
def tests_root(pytester: pytest.Pytester) -> Path:
    """The inner session's ``data/ensembl/GRCh37/spliceai_eval/tests`` dir."""
    return pytester.path / "data" / EVAL / "tests"


@pytest.fixture
def test_dirs(tests_root: Path) -> Callable[[], list[str]]:
    """Names of the test dirs that exist now (lock bookkeeping excluded)."""

    def names() -> list[str]:
        if not tests_root.is_dir():
            return []
        return sorted(p.name for p in tests_root.iterdir() if not p.name.startswith(".artifacts."))

    return names
