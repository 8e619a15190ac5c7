from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from artifact_manager import ArtifactConfig, ArtifactManager


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def production(data_root: Path) -> ArtifactManager:
    """A production-mode manager on a private data root."""
    return ArtifactManager(ArtifactConfig(mode="production", data_root=data_root))


@pytest.fixture
def testing(data_root: Path) -> ArtifactManager:
    """A test-mode manager on a private data root."""
    return ArtifactManager(ArtifactConfig(mode="test", test_name="t1", data_root=data_root))


@pytest.fixture
def make_immutable() -> Iterator[Callable[[Path], None]]:
    """``make_immutable(path)``: ``chattr +i`` it (an undeletable dir, even for root); skips
    the test where chattr is missing or fails. Every path is made mutable again afterwards."""
    done: list[Path] = []

    def chattr(flag: str, path: Path) -> bool:
        try:
            result = subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False)
        except OSError:
            return False
        return result.returncode == 0

    def make(path: Path) -> None:
        if not chattr("+i", path):
            pytest.skip("chattr +i is not available here (needs root and a file system with it)")
        done.append(path)

    try:
        yield make
    finally:
        for path in done:
            chattr("-i", path)
