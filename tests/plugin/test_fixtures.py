from __future__ import annotations

import json
import os

import pytest

from artifact_manager import nodeid_to_test_name


def test_fixtures_give_a_test_mode_manager_in_the_tests_own_dir(pytester, plugin_args):
    pytester.makepyfile(
        """
        from pathlib import Path
        from artifact_manager import ArtifactConfig, ArtifactManager, nodeid_to_test_name

        def test_a(request, artifact_config, artifact_manager, test_artifacts_dir):
            assert isinstance(artifact_config, ArtifactConfig)
            assert isinstance(artifact_manager, ArtifactManager)
            name = nodeid_to_test_name(request.node.nodeid)
            assert artifact_config.mode == "test"
            assert artifact_config.test_name == name
            expected = (
                Path(str(request.config.rootpath)) / "data/ensembl/GRCh37/spliceai_eval/tests"
                / name / "meta_models/predictions"
            )
            assert test_artifacts_dir == expected
            assert test_artifacts_dir.is_dir()
            assert artifact_manager.get_artifacts_dir() == test_artifacts_dir
        """
    )
    pytester.runpytest(*plugin_args).assert_outcomes(passed=1)


def test_long_and_multibyte_parameter_ids_still_get_a_dir_and_keep_it(pytester):
    pytester.makepyfile(
        """
        import polars as pl
        import pytest

        @pytest.mark.parametrize("p", ["p" * 400, "日本" * 100, "🧬" * 150])
        def test_a(p, artifact_manager, test_artifacts_dir):
            assert test_artifacts_dir.is_dir()
            artifact_manager.write_table(pl.DataFrame({"p": [p]}), "t.tsv")
        """
    )
    pytester.runpytest("--keep-artifacts").assert_outcomes(passed=3)
    tests_root = pytester.path / "data/ensembl/GRCh37/spliceai_eval/tests"
    kept = [p for p in tests_root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(kept) == 3
    assert all(len(p.name.encode()) <= 120 for p in kept)
    assert all((p / "meta_models/predictions/t.tsv").is_file() for p in kept)


def test_marker_sets_source_build_model_and_coverage_but_not_the_mode(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.artifacts(
            source="gencode", build="GRCh38", base_model="osai", coverage="full_genome"
        )
        def test_a(artifact_config, test_artifacts_dir):
            assert artifact_config.mode == "test"
            assert artifact_config.coverage == "full_genome"
            assert "gencode/GRCh38/osai_eval/tests/" in test_artifacts_dir.as_posix()
        """
    )
    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('mode="production"', "takes only the keywords source, build, base_model, coverage"),
        ('"positional"', "takes only the keywords"),
        ('build="../x"', "invalid build='../x'"),
        ('coverage="all"', "invalid coverage='all'"),
    ],
)
def test_bad_marker_fails_the_test_with_a_clear_error(pytester, marker, message):
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.artifacts({marker})
        def test_a(test_artifacts_dir):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{message}*"])


def test_artifact_config_can_be_overridden_in_a_conftest_and_stays_test(pytester):
    pytester.makeconftest(
        """
        import dataclasses
        import pytest

        @pytest.fixture
        def artifact_config(artifact_config):
            return dataclasses.replace(artifact_config, base_model="openspliceai")
        """
    )
    pytester.makepyfile(
        """
        import pytest
        from artifact_manager import ArtifactConfig

        @pytest.fixture
        def artifact_config():
            # even a production config comes out in test mode, in this test's dir
            return ArtifactConfig(mode="production", base_model="override")

        def test_production_override(artifact_manager, request):
            assert artifact_manager.config.mode == "test"
            assert "override_eval/tests/" in artifact_manager.get_artifacts_dir().as_posix()
        """
    )
    pytester.makepyfile(
        test_other="""
        def test_conftest_override(artifact_manager):
            assert artifact_manager.config.base_model == "openspliceai"
            assert artifact_manager.config.mode == "test"
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_pipeline_code_is_forced_into_the_tests_dir(pytester):
    pytester.makepyfile(
        """
        import threading
        from dataclasses import dataclass
        from artifact_manager import ArtifactConfig, ArtifactManager, ArtifactSettings

        @dataclass
        class SpliceAIConfig(ArtifactSettings):
            build: str = "GRCh37"

        def run_pipeline():
            manager = SpliceAIConfig(coverage="full_genome").get_artifact_manager()
            path = manager.get_artifact_path("full_splice_positions_enhanced.tsv", create_dir=True)
            path.write_text("pos\\n1\\n")
            return path

        def test_pipeline(test_artifacts_dir):
            assert run_pipeline().parent.resolve() == test_artifacts_dir.resolve()

        def test_pipeline_in_a_thread(artifact_config):
            seen = []
            t = threading.Thread(target=lambda: seen.append(ArtifactConfig(mode="production")))
            t.start(); t.join()
            assert seen[0].mode == "test"
            assert seen[0].test_name == artifact_config.test_name
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_an_exempt_tests_production_code_writes_production(pytester, tmp_path):
    """SPEC: a test marked allow_production_writes is exempt from forced test mode: its
    pipeline's production manager writes production (what the marker is for: regenerating a
    reference), while its test-mode code and fixtures still get its own dir, removed after."""
    pytester.makepyfile(
        """
        import pytest
        from artifact_manager import ArtifactConfig, ArtifactManager, ArtifactSettings

        def run_pipeline():
            manager = ArtifactSettings(coverage="full_genome").get_artifact_manager()
            path = manager.get_artifact_path("reference.tsv", create_dir=True)
            path.write_text("pos\\n1\\n")
            return manager, path

        @pytest.mark.allow_production_writes(reason="regenerates the reference")
        def test_rebuild(test_artifacts_dir):
            manager, path = run_pipeline()
            assert manager.config.mode == "production"
            assert "tests" not in path.parts
            scratch = ArtifactConfig(mode="test", test_name="anything")
            assert scratch.test_name == ArtifactConfig().test_name  # the test's own name
            scratch_dir = ArtifactManager(scratch).get_artifacts_dir()
            assert scratch_dir.resolve() == test_artifacts_dir.resolve()

        def test_not_exempt(test_artifacts_dir):
            manager, path = run_pipeline()
            assert manager.config.mode == "test"
            assert path.parent.resolve() == test_artifacts_dir.resolve()
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "--artifacts-guard=off")
    result.assert_outcomes(passed=2)
    produced = sorted(p.relative_to(pytester.path).as_posix() for p in pytester.path.rglob("*.tsv"))
    assert produced == ["data/ensembl/GRCh37/spliceai_eval/meta_models/reference.tsv"]
    result = pytester.runpytest("-p", "no:randomly")  # and with the guard on
    result.assert_outcomes(passed=2)


def test_forcing_ends_with_the_test(pytester):
    pytester.makepyfile(
        """
        from artifact_manager import ArtifactConfig

        PRODUCTION_AT_IMPORT = ArtifactConfig(coverage="full_genome").mode

        def test_a():
            assert PRODUCTION_AT_IMPORT == "production"
            assert ArtifactConfig(coverage="full_genome").mode == "test"
        """
    )
    pytester.makeconftest(
        """
        from artifact_manager import ArtifactConfig

        def pytest_sessionfinish():
            assert ArtifactConfig(coverage="full_genome").mode == "production"
            print("AFTER: production")
        """
    )
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*AFTER: production*"])


def test_fixture_docs_are_shown_by_pytest_fixtures(pytester):
    pytester.makepyfile("def test_a(): pass")
    result = pytester.runpytest("--fixtures")
    result.stdout.fnmatch_lines(["artifact_config -- *", "*test-mode ``ArtifactConfig``*"])
    result.stdout.fnmatch_lines(["artifact_manager -- *", "*in test mode for this test*"])
    result.stdout.fnmatch_lines(["test_artifacts_dir -- *", "*This test's artifacts dir*"])
    result.stdout.fnmatch_lines(["artifact_manager_factory *", "*Makes further test-mode*"])


def test_names_match_the_core_function(pytester, tests_root, test_dirs):
    pytester.makepyfile(
        test_names="""
        import pytest

        class TestK:
            @pytest.mark.parametrize("p", ["a/b", "A::B"])
            def test_p(self, test_artifacts_dir, p):
                (test_artifacts_dir / "f").write_text(p)
        """
    )
    pytester.runpytest("--keep-artifacts").assert_outcomes(passed=2)
    assert test_dirs() == sorted(
        nodeid_to_test_name(f"test_names.py::TestK::test_p[{p}]") for p in ["a/b", "A::B"]
    )


def test_a_second_roots_files_keep_a_symlinked_data_dirs_spelling_in_the_report(
    pytester, tmp_path_factory
):
    """``data -> <big disk>/data``: a test's root of another layout is claimed by its real
    path, but its files are named as the test spelt the dir, so the report's ``from_report``
    stays inside the project and a copy that follows links (a CI upload) still has them."""
    big_disk = tmp_path_factory.mktemp("bigdisk") / "data"
    big_disk.mkdir()
    (pytester.path / "data").symlink_to(big_disk)
    pytester.makepyfile(
        """
        from artifact_manager import ArtifactConfig, ArtifactManager

        def test_two_roots(test_artifacts_dir):
            (test_artifacts_dir / "own.tsv").write_text("a\\n1\\n")
            other = ArtifactManager(ArtifactConfig(source="gencode", data_root="data"))
            other.get_artifacts_dir(create=True)
            (other.get_artifacts_dir() / "other.tsv").write_text("b\\n2\\n")
            assert 0
        """
    )
    pytester.runpytest("--keep-artifacts=failed", "--artifacts-report=report.json")
    (test,) = json.loads((pytester.path / "report.json").read_text())["tests"]
    own, other = sorted(test["files"], key=lambda f: os.path.basename(f["name"]) == "other.tsv")
    assert own["name"] == "meta_models/predictions/own.tsv"
    spelt = pytester.path / "data/gencode/GRCh37/spliceai_eval/tests" / test["test_name"]
    assert other["name"] == str(spelt / "meta_models/predictions/other.tsv")
    assert other["from_report"] == os.path.relpath(other["name"], pytester.path)
    assert other["from_report"].startswith("data/gencode/")
    assert (pytester.path / other["from_report"]).read_text() == "b\n2\n"
