from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
from datetime import datetime, timedelta
from importlib.metadata import version

import pytest

from artifact_manager import nodeid_to_test_name

SUITE = """
    import pytest

    @pytest.mark.parametrize("n", range(6))
    def test_write(test_artifacts_dir, n):
        (test_artifacts_dir / f"{n}.tsv").write_text("x" * (n + 1))
        assert n != 5
    """


def test_json_report_has_the_spec_keys(pytester, plugin_args):
    pytester.makepyfile(test_suite=SUITE)
    pytester.runpytest(*plugin_args, "--keep-artifacts=failed", "--artifacts-report=out/r.json")
    report = json.loads((pytester.path / "out" / "r.json").read_text())
    assert list(report) == [
        "schema",
        "schema_version",
        "run",
        "tests",
        "violations",
        "reaped",
        "errors",
    ]
    assert (report["schema"], report["schema_version"]) == ("pytest-artifact-manager/report", 2)
    assert report["violations"] == report["reaped"] == report["errors"] == []
    run = report["run"]
    assert len(run["id"]) == 32
    assert run["host"] == socket.gethostname()
    assert run["started"] < run["finished"]
    assert datetime.fromisoformat(run["started"]).utcoffset() == timedelta(0)
    assert run["pytest"] == pytest.__version__
    assert run["plugin"] == version("pytest-artifact-manager")
    assert run["args"][: len(plugin_args) + 2] == [
        *plugin_args,
        "--keep-artifacts=failed",
        "--artifacts-report=out/r.json",
    ]  # then pytester's --basetemp
    assert (run["split"], run["workers"]) == (None, 2 if plugin_args else 0)
    assert run["outcomes"] == {"passed": 5, "failed": 1}
    tests = {t["nodeid"]: t for t in report["tests"]}
    assert sorted(tests) == sorted(f"test_suite.py::test_write[{n}]" for n in range(6))
    for nodeid, entry in tests.items():
        assert {
            "nodeid",
            "test_name",
            "artifacts_dir",
            "outcome",
            "kept",
            "files",
            "violations",
        } <= set(entry)
        assert entry["test_name"] == nodeid_to_test_name(nodeid)
        assert entry["artifacts_dir"].endswith(entry["test_name"] + "/meta_models/predictions")
        # Its dirs also relative to the report, for a report moved with the dirs (CI shards).
        for key in ("test_root", "artifacts_dir"):
            relative = pytester.path / "out" / entry["from_report"][key]
            assert os.path.normpath(relative) == entry[key]
        assert run["started"] < entry["finished"] < run["finished"]
    failed = tests["test_suite.py::test_write[5]"]
    assert (failed["outcome"], failed["kept"]) == ("failed", True)
    assert failed["files"] == [
        {
            "name": "meta_models/predictions/5.tsv",
            "size": 6,
            "sha256": hashlib.sha256(b"x" * 6).hexdigest(),
        }
    ]
    passed = tests["test_suite.py::test_write[0]"]
    assert (passed["outcome"], passed["kept"], passed["files"][0]["size"]) == ("passed", False, 1)


def test_summary_shows_kept_dirs_once_even_under_xdist(pytester, plugin_args):
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest(*plugin_args, "--keep-artifacts")
    result.stdout.fnmatch_lines(
        ["*- artifact manager -*", "kept 6 test artifact dir(s), 21 B in total"]
    )
    assert result.stdout.str().count("artifact manager") == 1


def test_verbose_summary_lists_each_kept_dir(pytester):
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-v", "--keep-artifacts=failed")
    name = nodeid_to_test_name("test_suite.py::test_write[5]")
    result.stdout.fnmatch_lines(
        ["kept 1 test artifact dir(s), 6 B in total", f"  */tests/{name}  (6 B, failed)"]
    )


def test_nothing_kept_prints_no_section(pytester):
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest()
    assert "artifact manager" not in result.stdout.str()


def test_xdist_gives_the_same_dirs_as_a_serial_run(pytester, test_dirs, tests_root):
    pytester.makepyfile(test_suite=SUITE)
    pytester.runpytest("--keep-artifacts", "-p", "no:xdist").assert_outcomes(passed=5, failed=1)
    serial = test_dirs()
    shutil.rmtree(tests_root)
    pytester.runpytest("--keep-artifacts", "-n", "2").assert_outcomes(passed=5, failed=1)
    assert test_dirs() == serial
    assert len(serial) == 6


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--artifacts-html", "", "--artifacts-html='' (from command line) is empty; pass a file"),
        ("--artifacts-report", "", "--artifacts-report='' (from command line) is empty"),
        ("--artifacts-html", "out", "--artifacts-html='out' (from command line) is a directory"),
        ("--artifacts-report", "new/", "--artifacts-report='new/' (from command line) is a dir"),
        (
            "--artifacts-html",
            "f.txt/r.html",
            "'f.txt/r.html' (from command line) is under *f.txt', which is a file, not a dir",
        ),
    ],
    ids=["html-empty", "json-empty", "html-a-dir", "json-a-dir-name", "html-under-a-file"],
)
def test_a_report_path_no_file_can_be_written_at_is_a_usage_error(pytester, option, value, message):
    pytester.mkdir("out")
    (pytester.path / "f.txt").write_text("a file")
    pytester.makepyfile("def test_a(): pass")
    result = pytester.runpytest(f"{option}={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])
    assert sorted(p.name for p in pytester.path.iterdir() if p.name[0] not in "._") == [
        "f.txt",
        "out",
        "test_a_report_path_no_file_can_be_written_at_is_a_usage_error.py",
    ]
    assert not pytester.path.with_name(pytester.path.name + ".tmp").exists()


def test_an_ini_report_path_that_is_a_dir_is_a_usage_error(pytester):
    pytester.mkdir("reports")
    pytester.makeini("[pytest]\nartifacts_html = reports\n")
    pytester.makepyfile("def test_a(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*artifacts_html='reports' (from ini) is a directory; pass a file path in it, e.g. "
         "reports/report.html*"]
    )  # fmt: skip


def test_both_reports_at_one_path_is_a_usage_error(pytester):
    pytester.makepyfile("def test_a(): pass")
    result = pytester.runpytest("--artifacts-html=r", "--artifacts-report=r")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*give each report a file of its own*"])


@pytest.mark.parametrize(
    ("warnings", "exit_code"),
    [("default", pytest.ExitCode.OK), ("error", pytest.ExitCode.TESTS_FAILED)],
    ids=["warning", "W-error"],
)
def test_a_report_that_cannot_be_written_at_the_end_is_a_warning(
    pytester, plugin_args, warnings, exit_code
):
    # The page's path became a dir during the session: the JSON report is still written,
    # the session keeps its outcome (fails under -W error) and summary, no temp file is left.
    pytester.makepyfile(
        """
        from pathlib import Path

        def test_a(test_artifacts_dir):
            Path("out/r.html").mkdir(parents=True)
        """
    )
    result = pytester.runpytest(
        *plugin_args,
        "-W",
        f"{warnings}::pytest.PytestWarning",
        "--artifacts-html=out/r.html",
        "--artifacts-report=out/r.json",
    )
    result.assert_outcomes(passed=1)
    assert result.ret == exit_code
    result.stdout.fnmatch_lines(["*could not write the HTML report '*r.html': *Is a directory*"])
    assert json.loads((pytester.path / "out" / "r.json").read_text())["run"]["outcomes"] == {
        "passed": 1
    }
    assert sorted(p.name for p in (pytester.path / "out").iterdir()) == ["r.html", "r.json"]
