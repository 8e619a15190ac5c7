from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from artifact_manager import ArtifactConfigError, ArtifactSettings, forced_test_mode


@dataclass
class SpliceAIConfig(ArtifactSettings):
    gtf_file: str  # a field without a default is allowed after the mix-in's
    eval_dir: str = "results"
    build: str = "GRCh38"
    data_root: Path = Path("data")


def test_a_seed_style_config_gets_auto_mode_and_a_manager(tmp_path):
    config = SpliceAIConfig("a.gtf", coverage="full_genome", data_root=tmp_path)
    assert config.mode == "production"
    manager = config.get_artifact_manager()
    assert manager.get_artifacts_dir() == tmp_path / "ensembl/GRCh38/spliceai_eval/meta_models"


def test_the_seeds_test_example(tmp_path):
    config = SpliceAIConfig(
        "a.gtf", mode="test", coverage="gene_subset", test_name="my_test", data_root=tmp_path
    )
    manager = config.get_artifact_manager()
    assert manager.get_artifacts_dir(create=True) == (
        tmp_path / "ensembl/GRCh38/spliceai_eval/tests/my_test/meta_models/predictions"
    )


def test_explicit_test_mode_stays_test_for_full_genome():
    config = SpliceAIConfig("a.gtf", mode="test", coverage="full_genome")
    assert config.mode == "test"
    assert config.test_name is not None


def test_default_is_test_mode_with_a_generated_name():
    config = SpliceAIConfig("a.gtf")
    assert config.mode == "test"
    assert config.test_name.startswith("test_")


def test_host_without_the_passed_through_fields_uses_the_defaults():
    @dataclass
    class Bare(ArtifactSettings):
        pass

    manager = Bare(test_name="t").get_artifact_manager()
    assert manager.config.source == "ensembl"
    assert manager.config.build == "GRCh37"
    assert manager.config.data_root == Path("data")


def test_settings_are_validated():
    with pytest.raises(ArtifactConfigError, match="coverage"):
        SpliceAIConfig("a.gtf", coverage="everything")  # type: ignore[arg-type]
    with pytest.raises(ArtifactConfigError, match="test_name"):
        SpliceAIConfig("a.gtf", test_name="../etc")


def test_a_hosts_unusable_data_root_is_a_config_error_naming_it():
    @dataclass
    class Unset(ArtifactSettings):
        data_root: str | None = None

    with pytest.raises(ArtifactConfigError, match=r"invalid data_root=None.*pass a str"):
        Unset(coverage="full_genome").get_artifact_manager()


def test_forced_test_mode_reaches_an_unchanged_pipeline(tmp_path):
    with forced_test_mode("the_running_test"):
        config = SpliceAIConfig("a.gtf", coverage="full_genome", data_root=tmp_path)
        manager = config.get_artifact_manager()
    assert config.mode == "test"
    assert manager.get_artifacts_dir() == (
        tmp_path / "ensembl/GRCh38/spliceai_eval/tests/the_running_test/meta_models/predictions"
    )
