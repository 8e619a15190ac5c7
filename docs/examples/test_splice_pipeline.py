"""The example pipeline under the plugin: every test gets its own dir, the pipeline's own
production config is forced into it, and the guard stops a stage that writes production."""

from __future__ import annotations

import polars as pl
import pytest
from splice_pipeline import SpliceAIConfig, run_pipeline, write_legacy_summary

from artifact_manager import ProductionWriteError

SEED_ARTIFACTS = [
    "analysis_sequences_chr1.tsv",
    "analysis_sequences_chr2.tsv",
    "analysis_sequences_chr3.tsv",
    "full_splice_errors.tsv",
    "full_splice_positions_enhanced.tsv",
]


def test_production_config_lands_in_the_tests_dir(genome, test_artifacts_dir):
    # coverage="full_genome" means production -- but inside a test, test mode is forced.
    manager = run_pipeline(SpliceAIConfig(coverage="full_genome"), genome)
    assert manager.config.mode == "test"
    assert manager.get_artifacts_dir().resolve() == test_artifacts_dir.resolve()
    assert [p.name for p in manager.list_artifacts()] == SEED_ARTIFACTS
    assert manager.validate_artifacts().ok


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
def test_errors_trade_off_with_the_threshold(genome, artifact_manager, threshold):
    manager = run_pipeline(SpliceAIConfig(threshold=threshold), genome)
    errors = manager.read_table("full_splice_errors.tsv")
    counts = dict(errors.group_by("error_type").len().iter_rows())
    if threshold <= 0.3:
        assert counts.get("FN", 0) == 0  # every true site scores at least 0.55
    if threshold >= 0.8:
        assert counts.get("FP", 0) == 0  # no decoy scores above 0.7


def test_positions_match_the_annotation(genome, artifact_manager):
    manager = run_pipeline(SpliceAIConfig(), genome)
    positions = manager.read_table("full_splice_positions_enhanced.tsv")
    donors = positions.filter(pl.col("label") & (pl.col("splice_type") == "donor"))
    assert donors.height == genome["donors"].list.len().sum()


def test_the_error_table_matches_its_baseline(genome, table_regression):
    # The committed baseline is __baselines__/test_splice_pipeline/<test name>.parquet;
    # after an intended change, `pytest docs/examples --update-baselines` rewrites it.
    errors = run_pipeline(SpliceAIConfig(), genome).read_table("full_splice_errors.tsv")
    table_regression.check(errors, sort_by=["gene_id", "position", "splice_type"])


def test_training_data_goes_to_the_tests_training_dir(genome, artifact_manager):
    manager = run_pipeline(SpliceAIConfig(), genome)
    features = pl.read_parquet(manager.get_training_data_dir() / "features.parquet")
    assert set(features.columns) == {"position", "score", "label"}
    assert "/tests/" in manager.get_training_data_dir().as_posix()


def test_the_pipeline_builds_its_genome_when_there_is_no_cache(artifact_manager):
    manager = run_pipeline(SpliceAIConfig(coverage="full_genome"))  # no shared genome given
    assert manager.get_artifact_path("genome.parquet").is_file()
    assert manager.get_artifact_metadata("genome.parquet")["size"] > 0


@pytest.mark.xfail(raises=ProductionWriteError, strict=True, reason="the guard stops it")
def test_the_guard_stops_a_stage_with_a_hard_coded_production_path(genome):
    errors = run_pipeline(SpliceAIConfig(), genome).read_table("full_splice_errors.tsv")
    write_legacy_summary(errors)  # polars write_csv to data/.../meta_models/: stopped
