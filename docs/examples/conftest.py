"""Session-wide shared build: the genome is made once per session, whichever xdist worker
asks first; the others wait and read it."""

from __future__ import annotations

import polars as pl
import pytest
from splice_pipeline import SpliceAIConfig, make_genome


@pytest.fixture(scope="session")
def genome(artifact_manager_factory) -> pl.DataFrame:
    config = SpliceAIConfig()
    path = artifact_manager_factory.get_or_build(
        "genome.parquet", lambda _path: make_genome(config.n_genes, config.seed)
    )
    return pl.read_parquet(path)
