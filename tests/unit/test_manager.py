from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from artifact_manager import (
    ArtifactConfig,
    ArtifactConfigError,
    ArtifactManager,
    ArtifactPathError,
    create_artifact_manager_from_workflow_config,
    forced_test_mode,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def test_manager(root: Path) -> ArtifactManager:
    return ArtifactManager(ArtifactConfig(mode="test", test_name="t1", data_root=root))


@pytest.fixture
def prod_manager(root: Path) -> ArtifactManager:
    return ArtifactManager(ArtifactConfig(mode="production", data_root=root))


def eval_dir(root: Path) -> Path:
    return root / "ensembl" / "GRCh37" / "spliceai_eval"


def test_layout_in_production(prod_manager, root):
    e = eval_dir(root)
    assert prod_manager.get_artifacts_dir() == e / "meta_models"
    assert prod_manager.get_test_root() is None
    assert prod_manager.get_training_data_dir() == e / "training_data"
    assert prod_manager.get_model_checkpoint_dir("v1.0") == e / "models" / "v1.0"
    assert prod_manager.get_model_checkpoint_dir() == e / "models" / "latest"


def test_layout_in_test_mode_routes_everything_under_the_test_root(test_manager, root):
    t = eval_dir(root) / "tests" / "t1"
    assert test_manager.get_artifacts_dir() == t / "meta_models" / "predictions"
    assert test_manager.get_test_root() == t
    assert test_manager.get_training_data_dir() == t / "training_data"
    assert test_manager.get_model_checkpoint_dir("v1.0") == t / "models" / "v1.0"


def test_layout_follows_source_build_and_model(root):
    manager = ArtifactManager(
        ArtifactConfig(
            mode="production", source="gencode", build="GRCh38", base_model="osai", data_root=root
        )
    )
    assert manager.get_artifacts_dir() == root / "gencode" / "GRCh38" / "osai_eval" / "meta_models"


def test_dirs_are_only_created_when_asked(test_manager):
    assert not test_manager.get_artifacts_dir().exists()
    assert test_manager.get_artifacts_dir(create=True).is_dir()
    assert test_manager.get_training_data_dir(create=True).is_dir()
    assert test_manager.get_model_checkpoint_dir("v2", create=True).is_dir()
    assert test_manager.get_test_root(create=True).is_dir()


def test_artifact_path_is_inside_the_artifacts_dir(test_manager):
    path = test_manager.get_artifact_path("x.tsv")
    assert path == test_manager.get_artifacts_dir() / "x.tsv"
    assert not path.parent.exists()


def test_artifact_path_can_create_its_parent_dirs(test_manager):
    path = test_manager.get_artifact_path("sub/x.tsv", create_dir=True)
    assert path.parent.is_dir()
    assert path.parent == test_manager.get_artifacts_dir() / "sub"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "empty"),
        (".", "empty"),
        ("/etc/passwd", "absolute"),
        ("../x.tsv", "'..'"),
        ("sub/../../x.tsv", "'..'"),
        ("a\x00b", "NUL"),
        (42, "str or path"),
        (".artifacts.manifest.json", "keeps for itself"),
        ("sub/.artifacts.cache/x.tsv", "keeps for itself"),
        ("sub/.artifacts.manifest.json", "keeps for itself"),
    ],
)
def test_bad_artifact_names_are_refused(test_manager, name, problem):
    with pytest.raises(ArtifactPathError) as info:
        test_manager.get_artifact_path(name)
    assert problem in str(info.value)
    assert repr(name) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_symlink_leading_out_of_the_artifacts_dir_is_refused(test_manager, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    artifacts = test_manager.get_artifacts_dir(create=True)
    (artifacts / "link").symlink_to(outside)
    (artifacts / "file_link.tsv").symlink_to(outside / "x.tsv")
    with pytest.raises(ArtifactPathError, match="symlink"):
        test_manager.get_artifact_path("link/x.tsv")
    with pytest.raises(ArtifactPathError, match="symlink"):
        test_manager.get_artifact_path("file_link.tsv")


def test_symlink_deeper_inside_or_dangling_leading_out_is_refused(test_manager, tmp_path):
    # Only the parts below the artifacts dir are looked at (one lstat each) until a symlink
    # is met: then the whole real path decides.
    artifacts = test_manager.get_artifacts_dir(create=True)
    (artifacts / "a" / "b").mkdir(parents=True)
    (artifacts / "a" / "b" / "out").symlink_to(tmp_path)
    (artifacts / "dangling.tsv").symlink_to(tmp_path / "not_there" / "x.tsv")
    for name in ("a/b/out/x.tsv", "a/b/out", "dangling.tsv"):
        with pytest.raises(ArtifactPathError, match="symlink"):
            test_manager.get_artifact_path(name)
    (artifacts / "a" / "b" / "in").symlink_to(artifacts / "a")
    assert test_manager.get_artifact_path("a/b/in/new/x.tsv") == artifacts / "a/b/in/new/x.tsv"
    assert test_manager.get_artifact_path("a/b/missing/x.tsv") == artifacts / "a/b/missing/x.tsv"


def test_symlink_staying_inside_is_fine(test_manager):
    artifacts = test_manager.get_artifacts_dir(create=True)
    (artifacts / "real").mkdir()
    (artifacts / "alias").symlink_to(artifacts / "real")
    assert test_manager.get_artifact_path("alias/x.tsv") == artifacts / "alias" / "x.tsv"


@pytest.mark.parametrize("version", ["../escape", "a/b", "", "/abs", "..\\x"])
def test_bad_model_versions_are_refused(test_manager, version):
    with pytest.raises(ArtifactPathError, match="model version"):
        test_manager.get_model_checkpoint_dir(version)


# The seed's overwrite table, row by row.
@pytest.mark.parametrize(
    ("mode", "exists", "force", "expected"),
    [
        ("test", True, False, True),
        ("test", False, False, True),
        ("production", True, False, False),
        ("production", True, True, True),
        ("production", False, False, True),
        ("production", False, True, True),
    ],
)
def test_overwrite_table(root, mode, exists, force, expected):
    manager = ArtifactManager(ArtifactConfig(mode=mode, test_name="t", data_root=root))
    path = manager.get_artifact_path("x.tsv", create_dir=True)
    if exists:
        path.write_text("old")
    assert manager.should_overwrite(path, force=force) is expected


def test_overwrite_covers_training_data_and_checkpoints_in_production(prod_manager):
    data = prod_manager.get_training_data_dir(create=True) / "labels.parquet"
    model = prod_manager.get_model_checkpoint_dir("v1", create=True) / "model.pt"
    data.write_text("x")
    assert prod_manager.should_overwrite(data) is False
    assert prod_manager.should_overwrite(model) is True


def test_overwrite_outside_the_managers_dirs_raises(test_manager, prod_manager, tmp_path):
    with pytest.raises(ArtifactPathError, match="outside this test manager"):
        test_manager.should_overwrite(tmp_path / "elsewhere.tsv")
    # a test manager does not own production files, nor the reverse
    with pytest.raises(ArtifactPathError):
        test_manager.should_overwrite(prod_manager.get_artifact_path("x.tsv"))
    with pytest.raises(ArtifactPathError, match="outside this production manager"):
        prod_manager.should_overwrite(test_manager.get_artifact_path("x.tsv"))


def test_overwrite_of_a_symlink_leading_out_raises(prod_manager, tmp_path):
    artifacts = prod_manager.get_artifacts_dir(create=True)
    (artifacts / "sneaky.tsv").symlink_to(tmp_path / "victim.tsv")
    with pytest.raises(ArtifactPathError):
        prod_manager.should_overwrite(artifacts / "sneaky.tsv")


def test_list_artifacts_is_sorted_and_filtered(test_manager):
    assert test_manager.list_artifacts() == []
    artifacts = test_manager.get_artifacts_dir(create=True)
    for name in ["b.tsv", "a.tsv", "c.parquet", ".artifacts.manifest.json"]:
        (artifacts / name).write_text("x")
    (artifacts / "dir.tsv").mkdir()
    assert [p.name for p in test_manager.list_artifacts()] == ["a.tsv", "b.tsv"]
    assert [p.name for p in test_manager.list_artifacts("*")] == ["a.tsv", "b.tsv", "c.parquet"]


def test_list_artifacts_leaves_out_the_files_of_published_versions(prod_manager):
    for name in ["x.tsv", "chr/17.tsv"]:
        prod_manager.write_table(pl.DataFrame({"a": [1]}), name)
    prod_manager.publish_version()
    prod_manager.publish_version()
    root = prod_manager.get_artifacts_dir()
    listed = [p.relative_to(root).as_posix() for p in prod_manager.list_artifacts("**/*.tsv")]
    assert listed == sorted(prod_manager.manifest.read()) == ["chr/17.tsv", "x.tsv"]
    assert [p.name for p in prod_manager.list_artifacts("*")] == ["x.tsv"]


def test_list_artifacts_skips_symlinks_leading_out(test_manager, tmp_path):
    (tmp_path / "victim.tsv").write_text("x")
    artifacts = test_manager.get_artifacts_dir(create=True)
    (artifacts / "link.tsv").symlink_to(tmp_path / "victim.tsv")
    assert test_manager.list_artifacts() == []


@pytest.mark.parametrize("pattern", ["../*.tsv", "/etc/*", ""])
def test_list_artifacts_refuses_patterns_leaving_the_dir(test_manager, pattern):
    with pytest.raises(ArtifactPathError):
        test_manager.list_artifacts(pattern)


def test_summary(test_manager, prod_manager):
    (test_manager.get_artifacts_dir(create=True) / "a.tsv").write_text("x")
    summary = test_manager.get_summary()
    assert summary == {
        "mode": "test",
        "coverage": "gene_subset",
        "source": "ensembl",
        "build": "GRCh37",
        "base_model": "spliceai",
        "test_name": "t1",
        "base_dir": str(test_manager.base_dir),  # the eval dir, as in the original
        "artifacts_dir": str(test_manager.get_artifacts_dir()),
        "artifacts_exist": True,
        "artifact_count": 1,
        "overwrite_policy": "always",
    }
    prod = prod_manager.get_summary()
    assert (prod["overwrite_policy"], prod["artifacts_exist"], prod["artifact_count"]) == (
        "explicit_only",
        False,
        0,
    )


def test_print_summary(test_manager, capsys):
    test_manager.print_summary()
    out = capsys.readouterr().out
    assert "overwrite_policy" in out
    assert str(test_manager.get_artifacts_dir()) in out


def test_workflow_factory(tmp_path):
    manager = create_artifact_manager_from_workflow_config(
        coverage="full_genome", build="GRCh38", data_root=tmp_path
    )
    assert manager.config.mode == "production"
    assert manager.get_artifacts_dir() == tmp_path / "ensembl/GRCh38/spliceai_eval/meta_models"
    assert create_artifact_manager_from_workflow_config().config.coverage == "gene_subset"


def test_manager_built_from_a_production_config_is_forced_to_test(tmp_path):
    production = ArtifactConfig(mode="production", data_root=tmp_path)
    with forced_test_mode("running_test") as forced:
        manager = ArtifactManager(production)
    assert manager.config.mode == "test"
    assert manager.config.test_name == "running_test"
    assert forced.created_roots == [eval_dir(tmp_path) / "tests" / "running_test"]
    assert ArtifactManager(production).config.mode == "production"


def test_a_forced_name_given_as_a_function_is_computed_once_on_first_use():
    calls = []

    def name() -> str:
        calls.append(1)
        return "lazy_name"

    with forced_test_mode(name) as forced:
        assert calls == []
        assert ArtifactConfig(mode="production").test_name == "lazy_name"
        assert ArtifactConfig().test_name == "lazy_name"
        assert forced.test_name == "lazy_name"
    assert calls == [1]


def test_a_bad_forced_name_fails_the_first_config_naming_it():
    with forced_test_mode(lambda: "../escape"), pytest.raises(ArtifactConfigError, match="escape"):
        ArtifactConfig()


def test_forcing_is_seen_by_threads(tmp_path):
    import threading

    seen = []
    with forced_test_mode("threaded"):
        thread = threading.Thread(
            target=lambda: seen.append(ArtifactConfig(mode="production").test_name)
        )
        thread.start()
        thread.join()
    assert seen == ["threaded"]


def test_paths_are_relative_to_a_relative_root(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    manager = ArtifactManager(ArtifactConfig(mode="test", test_name="t"))
    path = manager.get_artifact_path("a.tsv", create_dir=True)
    assert not path.is_absolute()
    assert manager.should_overwrite(path)
    assert os.path.isdir(tmp_path / "data/ensembl/GRCh37/spliceai_eval/tests/t")


def test_cleanup_old_tests_goes_on_past_a_dir_it_cannot_remove(root, make_immutable):
    tests_root = root / "ensembl" / "GRCh37" / "spliceai_eval" / "tests"
    for name in ["a", "b", "c"]:
        (tests_root / name / "sub").mkdir(parents=True)
    make_immutable(tests_root / "b" / "sub")
    manager = ArtifactManager(ArtifactConfig(mode="test", test_name="t", data_root=root))
    failed: list[tuple[Path, OSError]] = []
    removed = manager.cleanup_old_tests(
        0, on_error=lambda path, error: failed.append((path, error))
    )
    assert sorted(removed) == ["a", "c"]
    assert [(path, type(error)) for path, error in failed] == [(tests_root / "b", PermissionError)]
    with pytest.raises(PermissionError):  # without on_error: raised, the rest removed first
        manager.cleanup_old_tests(0)
    assert sorted(p.name for p in tests_root.iterdir()) == [".artifacts.locks", "b"]


def test_cleanup_old_tests_leaves_a_running_sessions_shared_dir(root):
    from artifact_manager.storage.retention import hold_session, write_shared_session

    tests_root = root / "ensembl" / "GRCh37" / "spliceai_eval" / "tests"
    for name, session in [("live-builds", "live-session"), ("dead-builds", "gone-session")]:
        (tests_root / name).mkdir(parents=True)
        write_shared_session(tests_root / name, session)
        (tests_root / name / "build.tsv").write_text("x")
    manager = ArtifactManager(ArtifactConfig(mode="production", data_root=root))
    lock = hold_session(tests_root, "live-session")  # as a running session holds it
    try:
        removed = manager.cleanup_old_tests(0)
    finally:
        lock.release()
    assert removed == ["dead-builds"]
    assert (tests_root / "live-builds" / "build.tsv").read_text() == "x"


def test_a_name_near_the_file_name_limit_is_written_and_read_back(test_manager):
    # 244 characters: the name fits (255 bytes on Linux), its temp name is shortened to fit.
    frame = pl.DataFrame({"gene": ["BRCA1"], "position": [43044295]})
    name = "splice_sites_" + "x" * 227 + ".tsv"
    path = test_manager.write_table(frame, name)
    assert path.name == name
    assert test_manager.read_table(name).equals(frame)
    assert test_manager.validate_artifacts().ok
    assert [p.name for p in test_manager.list_artifacts()] == [name]
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".artifacts.tmp-")]


@pytest.mark.parametrize(
    ("name", "part", "chars"),
    [
        pytest.param("x" * 252 + ".tsv", "x" * 252 + ".tsv", 256, id="ascii"),
        pytest.param("é" * 126 + ".tsv", "é" * 126 + ".tsv", 130, id="multibyte"),  # 256 bytes
        pytest.param("sub/" + "é" * 126 + ".tsv", "é" * 126 + ".tsv", 130, id="in-a-subdir"),
    ],
)
def test_a_name_longer_than_the_file_system_allows_is_refused_before_any_write(
    test_manager, name, part, chars
):
    frame = pl.DataFrame({"a": [1]})
    limit = os.pathconf(test_manager.get_artifacts_dir(create=True), "PC_NAME_MAX")
    with pytest.raises(ArtifactPathError) as info:
        test_manager.write_table(frame, name)
    message = str(info.value)
    assert info.value.value == name
    assert repr(name) in message
    assert f"is 256 bytes long ({chars} characters, in UTF-8)" in message
    assert f"more than the {limit} bytes a file name may have" in message
    assert f"shorten it to at most {limit} bytes" in message
    assert not any(test_manager.get_artifacts_dir().iterdir())  # nothing written, no subdir
