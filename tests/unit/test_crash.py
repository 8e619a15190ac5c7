"""A writer killed at random moments never leaves a torn artifact accepted as good."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest

from artifact_manager import ArtifactConfig, ArtifactManager

pytestmark = pytest.mark.slow

ROWS = 200_000
WRITER = f"""
import sys
import polars as pl
from artifact_manager import ArtifactConfig, ArtifactManager

mode = sys.argv[3]
manager = ArtifactManager(ArtifactConfig(mode=mode, test_name="t", data_root=sys.argv[1]))
name = sys.argv[2]
print("ready", flush=True)
for generation in range(50):
    frame = pl.DataFrame({{"generation": [generation] * {ROWS}, "row": range({ROWS})}})
    manager.write_table(frame, name, force=True)
"""


@pytest.mark.parametrize("name", ["big.tsv", "big.parquet"])
@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("production", id="production-durable"),
        pytest.param("test", id="test-mode-not-synced"),  # atomic renames alone
    ],
)
def test_killed_writer_leaves_old_or_new_complete_file(data_root, name, mode):
    rng = random.Random(20261126)
    manager = ArtifactManager(ArtifactConfig(mode=mode, test_name="t", data_root=data_root))
    outcomes = {"ok": 0, "modified": 0, "absent": 0}
    for _ in range(8):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(data_root), name, mode],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 1.5))
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=60)
        path = manager.get_artifact_path(name)
        if not path.exists():
            outcomes["absent"] += 1
            continue
        frame = manager.read_table(name)  # a torn file would not parse or would be short
        assert frame.height == ROWS
        assert frame["generation"].n_unique() == 1
        assert frame["row"].to_list() == list(range(ROWS))
        report = manager.validate_artifacts()
        # the manifest names it as modified when the kill fell between rename and update
        assert report.missing == []
        assert report.modified in ([], [name])
        outcomes["ok" if report.ok else "modified"] += 1
    assert sum(outcomes.values()) == 8
    assert outcomes["ok"] + outcomes["modified"] > 0, outcomes  # the kills hit real writes
    print(outcomes)
