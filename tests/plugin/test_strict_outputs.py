"""Strict mode keeps CI's own outputs: JUnit XML, the reports, pytest's cache, coverage data,
``tmp_path``, with the data root inside the project, serial and under xdist."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from artifact_manager.guard import mountns, strict

PROD = "data/ensembl/GRCh37/spliceai_eval/meta_models"
NO_MOUNT_NAMESPACE = mountns.DISABLE_ENV
HAS_MOUNT_NAMESPACE = mountns.usable()
HAS_LANDLOCK = strict.landlock_abi() >= 1

SUITE = f"""
    import subprocess

    def test_tmp_path_and_own_dir(tmp_path, test_artifacts_dir):
        (tmp_path / "made.txt").write_text("x")
        subprocess.run(["sh", "-c", f"echo x > {{test_artifacts_dir}}/ok.tsv"], check=True)

    def test_production_stays_read_only():
        result = subprocess.run(["sh", "-c", "echo x > {PROD}/sh.tsv"], capture_output=True)
        assert result.returncode != 0, "strict mode let a subprocess write production"
    """

CI_OUTPUTS = ("--junitxml=junit.xml", "--artifacts-report=r.json", "--artifacts-html=r.html")


@pytest.fixture
def project(pytester):
    """A project whose data root is ``data/`` in it, with one production artifact."""
    production = pytester.path / PROD
    production.mkdir(parents=True)
    (production / "p.tsv").write_text("production\n")
    pytester.makepyfile(test_ci=SUITE)
    return pytester.path


def _assert_outputs(project):
    junit = ET.parse(project / "junit.xml").getroot()
    assert junit.find("testsuite").get("tests") == "2"
    assert len(json.loads((project / "r.json").read_text())["tests"]) == 2
    assert "test_ci.py::test_tmp_path_and_own_dir" in (project / "r.html").read_text()
    assert (project / ".pytest_cache").is_dir()
    assert sorted(p.name for p in (project / PROD).iterdir()) == ["p.tsv"]


@pytest.mark.skipif(not HAS_MOUNT_NAMESPACE, reason="no private mount namespace here")
@pytest.mark.parametrize("args", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_mount_namespace_keeps_every_ci_output(project, pytester, args):
    result = pytester.runpytest_subprocess("--artifacts-guard=strict", *CI_OUTPUTS, *args)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["artifact-manager strict guard: read-only bind mounts*"])
    _assert_outputs(project)


@pytest.mark.skipif(not HAS_MOUNT_NAMESPACE, reason="no private mount namespace here")
@pytest.mark.parametrize("args", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_mount_namespace_keeps_coverage_data_files(project, pytester, args):
    pytest.importorskip("pytest_cov", reason="pytest-cov is not installed")
    # Parallel mode: one .coverage.<host>.<pid>.<random> per process, each with a journal.
    (project / ".coveragerc").write_text("[run]\nparallel = true\n")
    result = pytester.runpytest_subprocess(
        "--artifacts-guard=strict", f"--cov={project}", "--cov-report=", *args
    )
    result.assert_outcomes(passed=2)
    assert (project / ".coverage").is_file()  # the combined data


@pytest.fixture
def landlock(monkeypatch):
    if not HAS_LANDLOCK:
        pytest.skip("no Landlock in this kernel")
    monkeypatch.setenv(NO_MOUNT_NAMESPACE, "1")


@pytest.mark.parametrize("args", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_landlock_makes_the_known_outputs_first(project, pytester, landlock, tmp_path, args):
    basetemp = f"--basetemp={tmp_path / 'basetemp'}"  # pytester's default is in the project
    result = pytester.runpytest_subprocess("--artifacts-guard=strict", basetemp, *CI_OUTPUTS, *args)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["artifact-manager strict guard: Linux Landlock*"])
    _assert_outputs(project)


def test_landlock_stops_at_start_where_coverage_would_write_beside_the_data_root(
    project, pytester, landlock, tmp_path
):
    pytest.importorskip("pytest_cov", reason="pytest-cov is not installed")
    basetemp = f"--basetemp={tmp_path / 'basetemp'}"
    result = pytester.runpytest_subprocess(
        "--artifacts-guard=strict", basetemp, f"--cov={project}", "--cov-report="
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*uses Landlock here*pytest-cov writes its data files*into '{project}'*data_file*"]
    )


def test_landlock_stops_at_start_where_tmp_path_would_be_made_beside_the_data_root(
    project, pytester, landlock
):
    # pytester's own --basetemp is in the project dir, an ancestor of the data root.
    result = pytester.runpytest_subprocess("--artifacts-guard=strict")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*pytest makes its temp dirs (tmp_path) in*--basetemp=DIR*"])
