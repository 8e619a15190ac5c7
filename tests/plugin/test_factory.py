from __future__ import annotations

import pytest

SHARED_SUITE = """
    import os
    import pytest

    @pytest.mark.parametrize("n", range(4))
    def test_uses_shared(artifact_manager_factory, n):
        shared = artifact_manager_factory("reference").get_artifacts_dir(create=True)
        assert not (shared / "stale.tsv").exists()
        (shared / f"{n}.tsv").write_text(os.environ.get("PYTEST_XDIST_WORKER", "serial"))
    """


def test_named_dir_is_shared_by_all_tests_and_workers(pytester, plugin_args, tests_root):
    stale = tests_root / "reference" / "meta_models" / "predictions" / "stale.tsv"
    stale.parent.mkdir(parents=True)
    stale.write_text("from a previous session")
    pytester.makepyfile(test_shared=SHARED_SUITE)
    pytester.runpytest(*plugin_args, "--keep-artifacts").assert_outcomes(passed=4)
    shared = tests_root / "reference" / "meta_models" / "predictions"
    assert sorted(p.name for p in shared.iterdir()) == ["0.tsv", "1.tsv", "2.tsv", "3.tsv"]


def test_named_dir_is_removed_at_the_end_unless_kept(pytester, plugin_args, tests_root):
    pytester.makepyfile(test_shared=SHARED_SUITE)
    pytester.runpytest(*plugin_args).assert_outcomes(passed=4)
    assert not (tests_root / "reference").exists()


def test_unnamed_manager_is_the_running_tests_own(pytester):
    pytester.makepyfile(
        """
        def test_a(artifact_manager_factory, artifact_manager):
            own = artifact_manager_factory()
            assert own.get_artifacts_dir() == artifact_manager.get_artifacts_dir()
            other = artifact_manager_factory(base_model="openspliceai", build="GRCh38")
            assert other.config.mode == "test"
            assert other.config.test_name == artifact_manager.config.test_name
            assert "GRCh38/openspliceai_eval/tests/" in other.get_artifacts_dir().as_posix()
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_named_manager_outside_a_test_works_but_unnamed_is_refused(pytester):
    pytester.makeconftest(
        """
        import pytest
        from artifact_manager import ArtifactUsageError
        from artifact_manager.plugin.session import state_of

        def pytest_sessionfinish(session):
            factory = state_of(session.config).factory
            with pytest.raises(ArtifactUsageError, match="pass a name"):
                factory()
            assert factory("late").config.test_name == "late"
            print("FACTORY-OK")
        """
    )
    pytester.makepyfile("def test_a(): pass")
    result = pytester.runpytest("-s")
    result.stdout.fnmatch_lines(["*FACTORY-OK*"])


def test_bad_shared_name_is_refused(pytester):
    pytester.makepyfile(
        """
        import pytest
        from artifact_manager import ArtifactConfigError

        def test_a(artifact_manager_factory):
            with pytest.raises(ArtifactConfigError, match="test_name='../escape'"):
                artifact_manager_factory("../escape")
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize("name", [".artifacts.locks", ".artifacts.trash", ".artifacts.kept.json"])
def test_a_reserved_shared_name_is_refused_and_live_locks_survive(pytester, tests_root, name):
    from artifact_manager.layout import lock_path_for
    from artifact_manager.storage.locks import acquire

    running = tests_root / "running_elsewhere"
    running.mkdir(parents=True)
    pytester.makepyfile(
        f"""
        import pytest
        from artifact_manager import ArtifactConfigError

        def test_a(artifact_manager_factory):
            with pytest.raises(ArtifactConfigError) as caught:
                artifact_manager_factory({name!r})
            assert str(caught.value) == (
                "invalid test_name={name!r}: starts with '.artifacts.', a prefix reserved for "
                "the manager's own files (locks, trash, keep markers); choose a test_name that "
                "does not start with '.artifacts.'"
            )
        """
    )
    with acquire(lock_path_for(running), timeout=0, owner="another session's test"):
        pytester.runpytest().assert_outcomes(passed=1)
        assert lock_path_for(running).is_file()  # the live lock is still where it was
    assert running.is_dir()


def test_session_build_runs_once_across_workers(pytester, plugin_args, tmp_path):
    calls = tmp_path / "calls"
    pytester.makepyfile(
        test_build=f"""
        import os
        import polars as pl
        import pytest

        def build(path):
            with open({str(calls)!r}, "a") as f:
                f.write(os.environ.get("PYTEST_XDIST_WORKER", "serial") + "\\n")
            return pl.DataFrame({{"gene": ["BRCA1", "TP53"]}})

        @pytest.mark.parametrize("n", range(6))
        def test_reads_the_shared_build(artifact_manager_factory, n):
            path = artifact_manager_factory.get_or_build("genes.parquet", build)
            assert pl.read_parquet(path)["gene"].to_list() == ["BRCA1", "TP53"]
        """
    )
    pytester.runpytest(*plugin_args, "--keep-artifacts").assert_outcomes(passed=6)
    assert len(calls.read_text().split()) == 1
    # a second session builds afresh: a kept shared dir is emptied when a session first uses it
    pytester.runpytest(*plugin_args).assert_outcomes(passed=6)
    assert len(calls.read_text().split()) == 2
