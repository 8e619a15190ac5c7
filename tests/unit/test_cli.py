from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import polars as pl
import pytest

from artifact_manager import ArtifactConfig, ArtifactManager, nodeid_to_test_name
from artifact_manager.cli import ExitCode, main

DF = pl.DataFrame({"a": [1, 2]})


@pytest.fixture
def root(data_root, production):
    production.write_table(DF, "a.tsv")
    production.write_table(DF, "b.parquet")
    return data_root


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary(root, capsys):
    code, out, _ = run(capsys, "--root", str(root), "summary")
    assert code == ExitCode.OK
    assert "artifact_count    2" in out
    code, out, _ = run(capsys, "summary", "--root", str(root), "--json")
    assert json.loads(out)["mode"] == "production"


def test_list_human_and_json(root, capsys):
    code, out, _ = run(capsys, "--root", str(root), "list", "--pattern", "*.tsv")
    assert code == ExitCode.OK
    (line,) = out.strip().splitlines()
    assert line.split()[-1] == "a.tsv"
    code, out, _ = run(capsys, "--root", str(root), "--json", "list")
    assert [row["name"] for row in json.loads(out)] == ["a.tsv", "b.parquet"]


def test_validate_exit_codes(root, production, capsys):
    assert run(capsys, "--root", str(root), "validate")[0] == ExitCode.OK
    (production.get_artifacts_dir() / "a.tsv").write_text("changed")
    code, out, _ = run(capsys, "--root", str(root), "validate")
    assert code == ExitCode.PROBLEMS_FOUND
    assert "modified: a.tsv" in out
    code, out, _ = run(capsys, "--root", str(root), "validate", "--json")
    assert json.loads(out)["modified"] == ["a.tsv"]


def test_unreadable_manifest_is_one_line_not_a_traceback(root, production, capsys):
    (production.get_artifacts_dir() / ".artifacts.manifest.json").write_text("{")
    code, _, err = run(capsys, "--root", str(root), "validate")
    assert code == ExitCode.PROBLEMS_FOUND
    assert err.startswith("artifact-manager: error: manifest")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_clean_and_dry_run(root, capsys):
    for name in ["t1", "t2", "t3"]:
        ArtifactManager(ArtifactConfig(mode="test", test_name=name, data_root=root)).write_table(
            DF, "x.tsv"
        )
    code, out, _ = run(capsys, "--root", str(root), "clean", "--keep-recent", "1", "--dry-run")
    assert code == ExitCode.OK
    assert out.count("would remove") == 2
    code, out, _ = run(capsys, "--root", str(root), "--json", "clean", "--keep-recent", "1")
    assert len(json.loads(out)["removed"]) == 2
    code, out, _ = run(capsys, "--root", str(root), "clean", "--keep-recent", "1")
    assert out.strip() == "nothing to remove"


def test_clean_reports_a_dir_it_cannot_remove_and_removes_the_others(root, capsys, make_immutable):
    tests_root = root / "ensembl" / "GRCh37" / "spliceai_eval" / "tests"
    for name in ["old1", "old2", "old3"]:
        (tests_root / name / "sub").mkdir(parents=True)
    (tests_root / "old1" / "sub" / "f.tsv").write_text("x")
    make_immutable(tests_root / "old1" / "sub")
    code, out, err = run(capsys, "--root", str(root), "clean", "--keep-recent", "0")
    assert code == ExitCode.PROBLEMS_FOUND
    assert "Traceback" not in err
    assert err.startswith(
        f"artifact-manager: error: could not remove test dir {str(tests_root / 'old1')!r}: "
    )
    assert "Operation not permitted" in err
    assert "fix its permissions (or attributes) or remove it by hand" in err
    assert out.splitlines() == ["removed old2", "removed old3", "1 dir(s) could not be removed"]
    assert sorted(os.listdir(tests_root)) == [".artifacts.locks", "old1"]
    code, out, _ = run(capsys, "--root", str(root), "--json", "clean", "--keep-recent", "0")
    assert code == ExitCode.PROBLEMS_FOUND
    assert [f["path"] for f in json.loads(out)["failed"]] == [str(tests_root / "old1")]


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]], ids=["clean", "dry-run"])
def test_clean_refuses_a_tests_root_that_is_a_symlink(root, tmp_path, capsys, dry_run):
    projects = tmp_path / "projects"
    (projects / "thesis").mkdir(parents=True)
    tests_root = root / "ensembl" / "GRCh37" / "spliceai_eval" / "tests"
    tests_root.symlink_to(projects, target_is_directory=True)
    code, out, err = run(capsys, "--root", str(root), "clean", "--keep-recent", "0", *dry_run)
    assert code == ExitCode.USAGE_ERROR
    assert out == ""
    assert err.startswith(f"artifact-manager: error: {str(tests_root)!r}: the tests root is a")
    assert "replace the symlink with a real dir" in err
    assert os.listdir(projects) == ["thesis"]


def test_versions(root, production, capsys):
    assert run(capsys, "--root", str(root), "versions")[1].strip() == "(no versions)"
    name = production.publish_version()
    code, out, _ = run(capsys, "--root", str(root), "versions")
    assert (code, out.strip()) == (ExitCode.OK, f"{name}  <- latest")


def test_test_dir_instead_of_production(root, capsys):
    ArtifactManager(ArtifactConfig(mode="test", test_name="mine", data_root=root)).write_table(
        DF, "only_here.tsv"
    )
    code, out, _ = run(capsys, "--root", str(root), "--test-name", "mine", "list")
    assert (code, out.split()[-1]) == (ExitCode.OK, "only_here.tsv")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--root", "/nonexistent/data", "list"], "data root '/nonexistent/data' does not exist"),
        (["--base-model", "nope", "list"], "known base models"),
        (["--build", "../x", "list"], "invalid build='../x'"),
        (["clean", "--keep-recent", "-1"], "negative"),
        (
            ["--root", "{root}/ensembl/GRCh37/spliceai_eval/meta_models/a.tsv", "list"],
            "is not a dir",
        ),
        (
            ["--test-name", "nope", "validate"],
            "no test dir '{root}/ensembl/GRCh37/spliceai_eval/tests/nope'; test dirs under"
            " '{root}/ensembl/GRCh37/spliceai_eval/tests': mine (a test's dir stays only with"
            " --keep-artifacts",
        ),
    ],
    ids=["missing-root", "model", "build", "keep-recent", "root-is-a-file", "test-name"],
)
def test_bad_input_is_a_one_line_usage_error(root, capsys, argv, message, monkeypatch):
    monkeypatch.setenv("ARTIFACTS_DATA_ROOT", str(root))
    ArtifactManager(ArtifactConfig(mode="test", test_name="mine", data_root=root)).write_table(
        DF, "a.tsv"
    )
    argv = [arg.format(root=root) for arg in argv]
    message = message.format(root=root)
    code, _, err = run(capsys, *argv)
    assert code == ExitCode.USAGE_ERROR
    assert message in err
    assert "Traceback" not in err


def test_validate_of_an_artifacts_dir_that_is_not_there_is_a_problem_not_ok(data_root, capsys):
    (data_root / "ensembl" / "GRCh37" / "spliceai_eval").mkdir(parents=True)
    code, out, err = run(capsys, "--root", str(data_root), "validate")
    missing = data_root / "ensembl" / "GRCh37" / "spliceai_eval" / "meta_models"
    assert (code, out) == (ExitCode.PROBLEMS_FOUND, "")
    assert err == (
        f"artifact-manager: error: no artifacts dir {str(missing)!r}: nothing was written there"
        " (or --source/--build/--base-model/--test-name name another)\n"
    )
    code, out, _ = run(capsys, "--root", str(data_root), "validate", "--json")
    assert (code, json.loads(out)) == (
        ExitCode.PROBLEMS_FOUND,
        {"missing": [], "modified": [], "unlisted": [], "ok": False, "missing_dir": str(missing)},
    )  # the keys of every validate --json, and the one that says why it is not ok


def test_versions_with_a_dangling_latest_is_a_problem(root, production, capsys):
    name = production.publish_version()
    latest = production.get_artifacts_dir() / "latest"
    latest.unlink()
    latest.symlink_to("v9_20260101")
    code, out, err = run(capsys, "--root", str(root), "versions")
    assert (code, out) == (ExitCode.PROBLEMS_FOUND, f"{name}\n")
    assert err.startswith(f"artifact-manager: error: {str(latest)!r}: points to 'v9_20260101'")
    assert "Traceback" not in err
    code, out, _ = run(capsys, "--root", str(root), "versions", "--json")
    data = json.loads(out)
    assert (code, data["versions"], data["latest"]) == (ExitCode.PROBLEMS_FOUND, [name], None)
    assert "re-publish" in data["latest_error"]


@pytest.mark.parametrize(("kind", "what"), [("dir", "a real dir"), ("file", "a file")])
def test_versions_with_a_real_latest_is_a_problem(root, production, capsys, kind, what):
    name = production.publish_version()
    latest = production.get_artifacts_dir() / "latest"
    latest.unlink()
    latest.mkdir() if kind == "dir" else latest.write_text("x")
    code, out, err = run(capsys, "--root", str(root), "versions")
    assert (code, out) == (ExitCode.PROBLEMS_FOUND, f"{name}\n")
    assert err == (
        f"artifact-manager: error: {str(latest)!r}: is {what}, not a version pointer; move it"
        " aside; 'latest' must be the symlink publish_version() manages\n"
    )
    code, out, _ = run(capsys, "--root", str(root), "versions", "--json")
    data = json.loads(out)
    assert (code, data["versions"], data["latest"]) == (ExitCode.PROBLEMS_FOUND, [name], None)
    assert data["latest_error"] == err.removeprefix("artifact-manager: error: ").strip()


def test_clean_dry_run_leaves_out_what_the_real_run_leaves_alone(root, capsys):
    from artifact_manager.layout import lock_path_for
    from artifact_manager.storage.locks import acquire
    from artifact_manager.storage.retention import hold_session, write_shared_session

    tests_root = root / "ensembl" / "GRCh37" / "spliceai_eval" / "tests"
    for name in ["busy", "idle", "live-builds"]:
        (tests_root / name).mkdir(parents=True)
    write_shared_session(tests_root / "live-builds", "live-session")
    session = hold_session(tests_root, "live-session")  # as a running session holds it
    try:
        with acquire(lock_path_for(tests_root / "busy"), timeout=0, owner="a running test"):
            argv = ["--root", str(root), "clean", "--keep-recent", "0"]
            dry = run(capsys, *argv, "--dry-run")
            real = run(capsys, *argv)
    finally:
        session.release()
    assert dry == (ExitCode.OK, "would remove idle\n", "")
    assert real == (ExitCode.OK, "removed idle\n", "")
    assert sorted(p.name for p in tests_root.iterdir() if not p.name.startswith(".")) == [
        "busy",
        "live-builds",
    ]


def test_usage_errors_exit_2(capsys):
    assert run(capsys, "bogus")[0] == ExitCode.USAGE_ERROR
    assert run(capsys)[0] == ExitCode.USAGE_ERROR
    assert run(capsys, "--help")[0] == ExitCode.OK


def test_environment_variable_gives_the_root(root, capsys, monkeypatch):
    monkeypatch.setenv("ARTIFACTS_DATA_ROOT", str(root))
    assert "a.tsv" in run(capsys, "list")[1]


def installed_script(name):
    """The console script installed beside the running interpreter (not whatever PATH finds).

    `venv/bin/python -m pytest` without an activated venv must test this venv's script.
    """
    where = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    found = shutil.which(name, path=os.pathsep.join(map(str, where)))
    assert found, f"{name} is not installed in {where}; reinstall: pip install -e '.[dev]'"
    return found


def test_console_script_and_module_run(root):
    script = installed_script("artifact-manager")
    for command in ([script], [sys.executable, "-m", "artifact_manager"]):
        result = subprocess.run(
            [*command, "--root", str(root), "validate"], capture_output=True, text=True
        )
        assert (result.returncode, result.stdout.strip()) == (0, "ok")


def test_the_plugins_option_names_work_too(root, capsys):
    code, out, _ = run(capsys, "list", "--artifacts-root", str(root), "--artifacts-build", "GRCh37")
    assert (code, "a.tsv" in out) == (ExitCode.OK, True)


def test_locate_prints_the_test_dir_of_a_node_id(data_root, capsys):
    nodeid = "tests/test_io.py::test_write[5]"
    kept = ArtifactManager(
        ArtifactConfig(mode="test", test_name=nodeid_to_test_name(nodeid), data_root=data_root)
    )
    kept.write_table(DF, "a.tsv")
    code, out, _ = run(capsys, "--root", str(data_root), "locate", nodeid)
    assert code == ExitCode.OK
    assert out == f"{kept.get_test_root()}\n"
    code, out, _ = run(capsys, "locate", nodeid, "--root", str(data_root), "--json")
    data = json.loads(out)
    assert (data["exists"], data["test_root"], data["kept"]) == (
        True,
        str(kept.get_test_root()),
        None,
    )


def test_locate_exits_1_when_the_dir_is_not_on_disk(data_root, capsys):
    code, out, err = run(capsys, "--root", str(data_root), "locate", "tests/test_x.py::test_gone")
    assert code == ExitCode.PROBLEMS_FOUND
    assert out == ""
    assert err.count("\n") == 1
    assert "no test dir" in err
    assert "test_x.test_gone" in err


# -- report: where it writes ------------------------------------------------------------


def _one_report(tmp_path: Path) -> Path:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"tests": [], "violations": []}))
    return path


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("out", "report --html: '{tmp}/out' is a directory; pass a file path in it, e.g. "
         "{tmp}/out/report.html"),
        ("f.txt/p.html", "report --html: '{tmp}/f.txt/p.html' is under '{tmp}/f.txt', which is "
         "a file, not a directory; pass a path whose dirs exist or can be made"),
    ],
    ids=["a-dir", "under-a-file"],
)  # fmt: skip
def test_report_to_a_path_no_file_can_be_at_is_a_one_line_usage_error(
    tmp_path, capsys, out, message
):
    report = _one_report(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "f.txt").write_text("a file")
    json_out = tmp_path / "merged.json"
    argv = ["report", "--json", str(json_out), "--html", str(tmp_path / out), str(report)]
    assert main(argv) == ExitCode.USAGE_ERROR
    assert capsys.readouterr().err == f"artifact-manager: error: {message}\n".format(tmp=tmp_path)
    assert not json_out.exists()  # checked before anything is written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt", "out", "r.json"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_report_that_fails_to_write_one_file_still_writes_the_other(tmp_path, capsys):
    report = _one_report(tmp_path)
    page = tmp_path / "page.html"
    unwritable = "/proc/artifact-manager-test/r.json"  # no dir can be made in /proc
    argv = ["report", "--json", unwritable, "--html", str(page), str(report)]
    assert main(argv) == ExitCode.PROBLEMS_FOUND
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert line.startswith(
        f"artifact-manager: error: report --json: could not write '{unwritable}'"
    )
    assert line.endswith("; make its dir writable or pick another path")
    assert captured.out == f"wrote {page}\n"
    assert "No test made an artifact dir." in page.read_text()
