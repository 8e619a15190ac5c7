"""Code written for the original ``meta_spliceai`` ArtifactManager runs unchanged.

The original lived at ``meta_spliceai/system/artifact_manager.py``; its users reach ours
through a one-line shim module. Each test here checks one public name of the original
module or of its ``SpliceAIConfig`` integration, as the original's callers use it. The
intended differences are tested at the end (and tabled in ``docs/migration.md``).
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

SHIM = "from artifact_manager import *  # noqa: F403  (the one-line import shim)\n"
E = Path("data/ensembl/GRCh37/spliceai_eval")


@pytest.fixture
def original(tmp_path, monkeypatch):
    """The original module path, served by our package through the shim; cwd = tmp_path."""
    package = tmp_path / "shim" / "meta_spliceai" / "system"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "artifact_manager.py").write_text(SHIM)
    monkeypatch.syspath_prepend(str(tmp_path / "shim"))
    monkeypatch.chdir(tmp_path)
    for name in ("meta_spliceai", "meta_spliceai.system", "meta_spliceai.system.artifact_manager"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return importlib.import_module("meta_spliceai.system.artifact_manager")


@pytest.fixture
def test_manager(original):
    config = original.ArtifactConfig(
        mode="test", source="ensembl", build="GRCh37", base_model="spliceai", test_name="my_test"
    )
    return original.ArtifactManager(config)


@pytest.fixture
def prod_manager(original):
    return original.ArtifactManager(original.ArtifactConfig(mode="production"))


# -- ArtifactConfig -----------------------------------------------------------------------


def test_config_fields_and_defaults(original):
    config = original.ArtifactConfig()
    assert (config.mode, config.coverage) == ("test", "gene_subset")
    assert (config.source, config.build, config.base_model) == ("ensembl", "GRCh37", "spliceai")
    assert config.data_root == Path("data")
    assert re.fullmatch(r"test_\d{8}_\d{6}\w*", config.test_name)


def test_config_keywords_in_the_original_order(original):
    config = original.ArtifactConfig(
        "production", "full_genome", "gencode", "GRCh38", "openspliceai"
    )
    assert config.mode == "production"
    assert original.ArtifactManager(config).base_dir == Path(
        "data/gencode/GRCh38/openspliceai_eval"
    )


# -- ArtifactManager attributes -------------------------------------------------------------


def test_config_attribute(original, test_manager):
    assert isinstance(test_manager.config, original.ArtifactConfig)
    assert test_manager.config.test_name == "my_test"


def test_base_dir_is_the_eval_dir_in_both_modes(test_manager, prod_manager):
    assert test_manager.base_dir == E
    assert prod_manager.base_dir == E


def test_artifacts_dir_attribute(test_manager, prod_manager):
    assert test_manager.artifacts_dir == E / "tests/my_test/meta_models/predictions"
    assert prod_manager.artifacts_dir == E / "meta_models"
    assert test_manager.artifacts_dir == test_manager.get_artifacts_dir()


# -- ArtifactManager methods -------------------------------------------------------------------


def test_get_artifacts_dir_creates_on_request(test_manager):
    assert not test_manager.get_artifacts_dir().exists()
    assert test_manager.get_artifacts_dir(create=True).is_dir()


def test_get_artifact_path_positional_and_by_the_original_keyword(test_manager):
    expected = E / "tests/my_test/meta_models/predictions/full_splice_positions_enhanced.tsv"
    assert test_manager.get_artifact_path("full_splice_positions_enhanced.tsv") == expected
    assert (
        test_manager.get_artifact_path(artifact_name="full_splice_positions_enhanced.tsv")
        == expected
    )


def test_should_overwrite_table(test_manager, prod_manager):
    test_path = test_manager.get_artifact_path("a.tsv")
    prod_path = prod_manager.get_artifact_path("a.tsv")
    assert test_manager.should_overwrite(test_path)
    assert prod_manager.should_overwrite(prod_path)  # absent
    prod_manager.get_artifacts_dir(create=True)
    prod_path.write_text("precious")
    assert not prod_manager.should_overwrite(prod_path)
    assert not prod_manager.should_overwrite(artifact_path=prod_path)
    assert prod_manager.should_overwrite(prod_path, force=True)


def test_list_artifacts(test_manager):
    assert test_manager.list_artifacts() == []
    out = test_manager.get_artifacts_dir(create=True)
    for name in ("b.tsv", "a.tsv", "c.parquet"):
        (out / name).write_text("x")
    assert [p.name for p in test_manager.list_artifacts("*.tsv")] == ["a.tsv", "b.tsv"]
    assert [p.name for p in test_manager.list_artifacts(pattern="*.parquet")] == ["c.parquet"]


def test_get_training_data_dir(test_manager, prod_manager):
    assert test_manager.get_training_data_dir() == E / "tests/my_test/training_data"
    assert prod_manager.get_training_data_dir(create=True) == E / "training_data"
    assert (E / "training_data").is_dir()


def test_get_model_checkpoint_dir(test_manager, prod_manager):
    assert prod_manager.get_model_checkpoint_dir() == E / "models/latest"
    assert prod_manager.get_model_checkpoint_dir("v2") == E / "models/v2"
    assert test_manager.get_model_checkpoint_dir(model_version="v2") == E / (
        "tests/my_test/models/v2"
    )


def test_print_summary_and_get_summary(test_manager, capsys):
    test_manager.print_summary()
    printed = capsys.readouterr().out
    for key, value in (("mode", "test"), ("test_name", "my_test"), ("base_dir", str(E))):
        assert re.search(rf"{key}\s+{re.escape(value)}$", printed, re.MULTILINE), printed
    summary = test_manager.get_summary()
    assert summary["base_dir"] == str(E)
    assert summary["artifacts_dir"] == str(test_manager.artifacts_dir)
    assert summary["overwrite_policy"] == "always"


def test_workflow_factory_function(original):
    manager = original.create_artifact_manager_from_workflow_config(
        mode="production", coverage="full_genome", build="GRCh38"
    )
    assert manager.config.mode == "production"
    assert manager.base_dir == Path("data/ensembl/GRCh38/spliceai_eval")
    assert original.create_artifact_manager_from_workflow_config().config.mode == "test"


def test_the_original_direct_usage_example(test_manager):
    df = pl.DataFrame({"pos": [1, 2]})
    test_manager.get_artifacts_dir(create=True)
    positions_file = test_manager.get_artifact_path("full_splice_positions_enhanced.tsv")
    if test_manager.should_overwrite(positions_file):
        df.write_csv(positions_file, separator="\t")
    artifacts = test_manager.list_artifacts("*.tsv")
    assert artifacts == [positions_file]


# -- the SpliceAIConfig integration ---------------------------------------------------------


@pytest.fixture
def splice_config(original):
    @dataclass
    class SpliceAIConfig(original.ArtifactSettings):
        eval_dir: str = "data/ensembl/GRCh37/spliceai_eval"
        gtf_file: str = "annotations.gtf"

    return SpliceAIConfig


def test_spliceai_config_fields_and_defaults(splice_config):
    config = splice_config()
    assert (config.mode, config.coverage) == ("test", "gene_subset")
    assert config.test_name.startswith("test_")


def test_spliceai_config_full_genome_is_production(splice_config):
    assert splice_config(coverage="full_genome").mode == "production"


def test_spliceai_config_named_test(splice_config):
    config = splice_config(mode="test", coverage="gene_subset", test_name="my_test")
    manager = config.get_artifact_manager()
    assert manager.get_artifacts_dir() == E / "tests/my_test/meta_models/predictions"
    assert manager.base_dir == E


def test_spliceai_config_production_run(splice_config):
    manager = splice_config(mode="production", coverage="full_genome").get_artifact_manager()
    assert manager.get_artifacts_dir(create=True) == E / "meta_models"
    assert manager.config.mode == "production"


# -- intended differences (docs/migration.md) ---------------------------------------------


def test_difference_an_explicit_test_mode_is_never_turned_into_production(original, splice_config):
    assert original.ArtifactConfig(mode="test", coverage="full_genome").mode == "test"
    assert splice_config(mode="test", coverage="full_genome").mode == "test"


def test_difference_generated_names_are_unique_within_a_second(original):
    names = {original.ArtifactConfig().test_name for _ in range(200)}
    assert len(names) == 200


def test_difference_names_are_validated(original):
    with pytest.raises(original.ArtifactConfigError, match="build"):
        original.ArtifactConfig(build="../GRCh38")
    with pytest.raises(original.ArtifactPathError, match=r"\.\."):
        original.ArtifactManager(original.ArtifactConfig(test_name="t")).get_artifact_path(
            "../escape.tsv"
        )


def test_a_keyword_given_twice_is_a_clear_error(test_manager):
    with pytest.raises(TypeError, match="'artifact_name' and 'name'"):
        test_manager.get_artifact_path(name="a.tsv", artifact_name="b.tsv")
