from __future__ import annotations

import shutil

import pytest

from artifact_manager import nodeid_to_test_name
from artifact_manager.storage.manifest import Manifest

OUTCOMES = """
    import pytest

    @pytest.fixture
    def bad_setup():
        raise RuntimeError("setup broke")

    @pytest.fixture
    def bad_teardown():
        yield
        raise RuntimeError("teardown broke")

    def test_pass(test_artifacts_dir):
        (test_artifacts_dir / "a.tsv").write_text("x")

    def test_fail_call(test_artifacts_dir):
        (test_artifacts_dir / "a.tsv").write_text("x")
        assert False

    def test_fail_setup(test_artifacts_dir, bad_setup):
        pass

    def test_fail_teardown(test_artifacts_dir, bad_teardown):
        (test_artifacts_dir / "a.tsv").write_text("x")

    @pytest.mark.skip(reason="no")
    def test_skip(test_artifacts_dir):
        pass
    """


def names(*tests: str) -> list[str]:
    return sorted(nodeid_to_test_name(f"test_outcomes.py::{t}") for t in tests)


@pytest.mark.parametrize(
    ("args", "kept"),
    [
        pytest.param([], [], id="default-deletes-all"),
        pytest.param(["--keep-artifacts=none"], [], id="none"),
        pytest.param(
            ["--keep-artifacts"],
            ["test_pass", "test_fail_call", "test_fail_setup", "test_fail_teardown"],
            id="all",
        ),
        pytest.param(
            ["--keep-artifacts=failed"],
            ["test_fail_call", "test_fail_setup", "test_fail_teardown"],
            id="failed-in-setup-call-or-teardown",
        ),
    ],
)
def test_keep_policy(pytester, plugin_args, test_dirs, tests_root, args, kept):
    pytester.makepyfile(test_outcomes=OUTCOMES)
    result = pytester.runpytest(*plugin_args, *args)
    result.assert_outcomes(passed=2, failed=1, errors=2, skipped=1)
    # test_fail_setup's dir was made by its fixture before the setup failure: it counts
    assert test_dirs() == names(*kept)
    # Discarded dirs went through the trash, which every process emptied before it ended.
    trash = tests_root / ".artifacts.trash"
    assert not trash.exists() or list(trash.iterdir()) == []


def test_ini_keep_failed(pytester, test_dirs):
    pytester.makeini("[pytest]\nartifacts_keep = failed\n")
    pytester.makepyfile(test_outcomes=OUTCOMES)
    pytester.runpytest()
    assert test_dirs() == names("test_fail_call", "test_fail_setup", "test_fail_teardown")


def test_a_kept_dir_never_leaks_into_the_next_run(pytester, tests_root, monkeypatch):
    pytester.makepyfile(
        test_outcomes="""
        import os

        def test_fresh(test_artifacts_dir):
            assert list(test_artifacts_dir.iterdir()) == []
            (test_artifacts_dir / f"run-{os.environ['RUN']}.tsv").write_text("x")
        """
    )
    name = nodeid_to_test_name("test_outcomes.py::test_fresh")
    for run in ("1", "2"):
        monkeypatch.setenv("RUN", run)
        pytester.runpytest("--keep-artifacts").assert_outcomes(passed=1)
    predictions = tests_root / name / "meta_models" / "predictions"
    assert sorted(p.name for p in predictions.iterdir()) == ["run-2.tsv"]


def test_planted_symlink_as_the_test_dir_is_removed_not_followed(pytester, tests_root, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.tsv").write_text("production data")
    name = nodeid_to_test_name("test_outcomes.py::test_write")
    tests_root.mkdir(parents=True)
    (tests_root / name).symlink_to(precious, target_is_directory=True)
    pytester.makepyfile(
        test_outcomes="""
        def test_write(test_artifacts_dir):
            assert not test_artifacts_dir.parent.parent.is_symlink()
            (test_artifacts_dir / "a.tsv").write_text("x")
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
    assert sorted(p.name for p in precious.iterdir()) == ["keep.tsv"]
    assert (precious / "keep.tsv").read_text() == "production data"
    assert not (tests_root / name).exists()


def test_cleanup_removes_links_the_test_planted_not_their_targets(pytester, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.tsv").write_text("production data")
    pytester.makepyfile(
        test_outcomes=f"""
        import os

        def test_plant(test_artifacts_dir):
            os.symlink({str(precious)!r}, test_artifacts_dir / "dir_link")
            os.symlink({str(precious / "keep.tsv")!r}, test_artifacts_dir / "file_link.tsv")
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
    assert (precious / "keep.tsv").read_text() == "production data"


def test_dirs_made_by_pipeline_managers_are_cleaned_and_emptied_too(pytester, tmp_path):
    other_root = tmp_path / "pipeline_data"
    pytester.makepyfile(
        test_outcomes=f"""
        from artifact_manager import ArtifactConfig, ArtifactManager

        def test_pipeline():
            config = ArtifactConfig(
                coverage="full_genome", build="GRCh38", data_root={str(other_root)!r}
            )
            manager = ArtifactManager(config)
            out = manager.get_artifacts_dir(create=True)
            assert list(out.iterdir()) == []
            (out / "x.tsv").write_text("x")
        """
    )
    pytester.runpytest("--keep-artifacts").assert_outcomes(passed=1)
    kept = list(other_root.rglob("x.tsv"))
    assert len(kept) == 1
    pytester.runpytest("--keep-artifacts").assert_outcomes(passed=1)  # emptied before
    pytester.runpytest().assert_outcomes(passed=1)
    assert list(other_root.rglob("x.tsv")) == []


def test_a_kept_dir_has_every_checksum_and_validates_after_a_copy(
    pytester, plugin_args, tests_root, tmp_path
):
    # Test mode leaves a table's checksum to whoever first asks; keeping the dir asks, so a
    # copy of it (an uploaded CI artifact: new inodes, new times) still validates.
    pytester.makepyfile(
        test_kept_tables="""
        import polars as pl

        def test_writes(artifact_manager):
            artifact_manager.write_table(pl.DataFrame({"a": [1, 2]}), "t.parquet")
            artifact_manager.write_table(pl.DataFrame({"a": [3]}), "sub/t.tsv")
        """
    )
    pytester.runpytest(*plugin_args, "--keep-artifacts").assert_outcomes(passed=1)
    kept = tests_root / nodeid_to_test_name("test_kept_tables.py::test_writes")
    [artifacts] = {p.parent for p in kept.rglob(".artifacts.manifest.journal")}
    entries = Manifest(artifacts).read()
    assert sorted(entries) == ["sub/t.tsv", "t.parquet"]
    assert not any(entry.pending for entry in entries.values())
    copy = tmp_path / "copy"
    shutil.copytree(artifacts, copy)
    assert Manifest(copy).validate().ok
    (copy / "t.parquet").write_bytes(b"x")
    assert Manifest(copy).validate().modified == ["t.parquet"]
