"""The guard's behaviour beyond the route corpus: modes, exemption, attribution, strict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PROD = "data/ensembl/GRCh37/spliceai_eval/meta_models"


def test_guard_off_lets_writes_through(pytester, production):
    pytester.makepyfile(
        f"""
        def test_write():
            open({str(production / "p.tsv")!r}, "w").write("changed")
        """
    )
    pytester.runpytest_subprocess("--artifacts-guard=off").assert_outcomes(passed=1)
    assert (production / "p.tsv").read_text() == "changed"


def test_ini_turns_it_off_and_the_command_line_back_on(pytester, production):
    pytester.makeini("[pytest]\nartifacts_guard = off\n")
    pytester.makepyfile(
        f"""
        def test_write():
            open({str(production / "new.tsv")!r}, "w")
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    pytester.runpytest_subprocess("--artifacts-guard=on").assert_outcomes(failed=1)


def test_exempt_test_may_write_and_others_may_not(pytester, production):
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.allow_production_writes(reason="rebuilds the reference")
        def test_rebuild():
            open({str(production / "p.tsv")!r}, "w").write("rebuilt")

        def test_other():
            open({str(production / "p.tsv")!r}, "w").write("oops")
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)
    assert (production / "p.tsv").read_text() == "rebuilt"


@pytest.mark.parametrize(
    "marker", ["allow_production_writes", 'allow_production_writes(reason="")']
)
def test_exemption_without_a_reason_is_a_usage_error(pytester, marker):
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.{marker}
        def test_a():
            pass
        """
    )
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*allow_production_writes needs a reason*"])


def test_violation_in_a_session_fixture_names_the_fixture(pytester, production):
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.fixture(scope="session")
        def reference():
            open({str(production / "ref.tsv")!r}, "w")

        def test_uses_reference(reference):
            pass
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*fixture 'reference' (session-scoped) (while setting up *test_uses_reference)*"]
    )
    assert not (production / "ref.tsv").exists()


def test_violations_name_the_innermost_fixture_being_set_up(pytester, production):
    # Found on the stack when the violation is recorded (no hook runs around each fixture):
    # a fixture's dependency is set up inside it; one asked for in the test body too.
    pytester.makepyfile(
        f"""
        import pytest

        P = {str(production)!r}

        def write(name):
            try:
                open(f"{{P}}/{{name}}", "w")
            except Exception:
                pass  # recorded all the same

        @pytest.fixture
        def inner():
            write("inner.tsv")

        @pytest.fixture
        def outer(inner):
            write("outer.tsv")

        @pytest.fixture(scope="module")
        def late():
            write("late.tsv")

        def test_nested(outer):
            write("body.tsv")

        def test_asks_late(request):
            request.getfixturevalue("late")
        """
    )
    result = pytester.runpytest_subprocess("--artifacts-report", "report.json")
    result.assert_outcomes(errors=1, failed=1)
    report = json.loads((pytester.path / "report.json").read_text())
    found = {
        (Path(v["path"]).name, v["phase"], v["fixture"], v["fixture_phase"])
        for test in report["tests"]
        for v in test["violations"]
    }
    assert found == {
        ("inner.tsv", "setup", "'inner' (function-scoped)", "setup"),
        ("outer.tsv", "setup", "'outer' (function-scoped)", "setup"),
        ("late.tsv", "call", "'late' (module-scoped)", "setup"),
    }
    assert sorted(path.name for path in production.iterdir()) == ["p.tsv"]


TEARDOWNS = """
import pytest

P = {production!r}

def write(name):
    try:
        open(f"{{P}}/{{name}}", "w")
    except Exception:
        pass  # recorded all the same

@pytest.fixture
def yielding():
    yield
    write("yielding.tsv")

@pytest.fixture
def outer(yielding):
    yield
    write("outer.tsv")  # torn down before the fixture it depends on

@pytest.fixture
def finalized(request):
    request.addfinalizer(lambda: write("finalizer.tsv"))

@pytest.fixture(scope="module")
def module_wide():
    yield
    write("module.tsv")  # torn down in the teardown of the module's last test

@pytest.fixture(scope="module", params=[1, 2])
def replaced(request):
    yield
    write(f"replaced{{request.param}}.tsv")

def test_fixtures(outer, finalized, module_wide):
    pass

def test_own_finalizer(request):
    request.addfinalizer(lambda: write("test.tsv"))  # the test's, no fixture's

def test_replaced(replaced):
    pass
"""


def test_violations_in_a_fixture_teardown_name_the_fixture(pytester, production):
    # Found on the stack, as for the setup: the innermost fixture whose teardown is running,
    # whether its code follows a yield or is a finalizer it added.
    pytester.makepyfile(TEARDOWNS.format(production=str(production)))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--artifacts-report=r.json")
    report = json.loads((pytester.path / "r.json").read_text())
    found = {
        (Path(v["path"]).name, v["phase"], v["fixture"], v["fixture_phase"])
        for test in report["tests"]
        for v in test["violations"]
    }
    function, module = "(function-scoped)", "(module-scoped)"
    assert found == {
        ("outer.tsv", "teardown", f"'outer' {function}", "teardown"),
        ("yielding.tsv", "teardown", f"'yielding' {function}", "teardown"),
        ("finalizer.tsv", "teardown", f"'finalized' {function}", "teardown"),
        ("module.tsv", "teardown", f"'module_wide' {module}", "teardown"),
        ("test.tsv", "teardown", "", ""),
        # the first instance is torn down as the second is set up, in the next test's setup
        ("replaced1.tsv", "setup", f"'replaced' {module}", "teardown"),
        ("replaced2.tsv", "teardown", f"'replaced' {module}", "teardown"),
    }
    result.stdout.fnmatch_lines(
        [
            "*blocked: open for writing */yielding.tsv (in the teardown of fixture 'yielding'"
            " (function-scoped) (while tearing down *::test_fixtures))",
            "*blocked: open for writing */test.tsv (in the teardown of *::test_own_finalizer)",
            "*blocked: open for writing */replaced1.tsv (in the teardown of fixture 'replaced'"
            " (module-scoped) (torn down while setting up *::test_replaced[[]2[]]))",
        ],
        consecutive=False,
    )
    assert sorted(path.name for path in production.iterdir()) == ["p.tsv"]


def test_a_fixture_set_up_in_the_test_body_says_so(pytester, production):
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.fixture
        def late():
            open({str(production / "late.tsv")!r}, "w")

        def test_asks_late(request):
            request.getfixturevalue("late")
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*blocked: open for writing */late.tsv (in the setup of fixture 'late'"
            " (function-scoped) (set up by request.getfixturevalue in the call of"
            " *::test_asks_late))",
        ]
    )
    assert "while setting up" not in result.stdout.str()


def test_sqlite_bound_before_the_session_still_gets_the_guards_authorizer(pytester, production):
    # sqlite3 imported by a conftest (as pytest-cov's coverage does): sqlite3.connect is
    # wrapped when the session starts, and the conftest's own binding is rebound.
    pytester.makeconftest(
        """
        from sqlite3 import connect as early_connect

        import pytest

        @pytest.fixture
        def early():
            return early_connect
        """
    )
    pytester.makepyfile(
        f"""
        import sqlite3

        def test_vacuum_into(early):
            early(":memory:").execute("VACUUM INTO '{production / "copy.db"}'")

        def test_attach(tmp_path):
            db = sqlite3.connect(tmp_path / "harmless.db")
            db.execute("ATTACH '{production / "attached.db"}' AS p")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*blocked: attach a sqlite database for writing (ATTACH or VACUUM INTO) */copy.db*",
            "*blocked: attach a sqlite database for writing (ATTACH or VACUUM INTO) */attached.db*",
        ],
        consecutive=False,
    )
    assert sorted(path.name for path in production.iterdir()) == ["p.tsv"]


def test_a_write_after_a_phase_report_is_charged_to_the_next_phase(pytester, production):
    # The guard arms the next phase as the previous phase's report is made: a write by another
    # plugin's logreport hook fails the phase that follows; after the teardown report the test
    # is over: the write is stopped all the same and reported at session level.
    pytester.makeconftest(
        f"""
        def pytest_runtest_logreport(report):
            try:
                open({str(production)!r} + f"/after-{{report.when}}.tsv", "w")
            except Exception:
                pass  # a hook that raised would stop the session
        """
    )
    pytester.makepyfile("def test_a():\n    pass\n")
    result = pytester.runpytest_subprocess("--artifacts-report", "report.json")
    result.assert_outcomes(failed=1, errors=1)  # the call fails, then the teardown errors
    report = json.loads((pytester.path / "report.json").read_text())
    (test,) = report["tests"]
    charged = {(Path(v["path"]).name, v["phase"], v["layer"]) for v in test["violations"]}
    assert charged == {
        ("after-setup.tsv", "call", "prevented"),
        ("after-call.tsv", "teardown", "prevented"),
    }
    session = {(Path(v["path"]).name, v["phase"], v["layer"]) for v in report["violations"]}
    assert session == {("after-teardown.tsv", "session", "prevented")}
    assert sorted(p.name for p in production.iterdir()) == ["p.tsv"]  # all three stopped


def test_xfail_does_not_hide_a_violation(pytester, production):
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.xfail(reason="flaky")
        def test_x():
            try:
                open({str(production / "p.tsv")!r}, "w")
            except OSError:
                pass
            assert False
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)


def test_message_names_test_path_operation_and_remedy(pytester, production):
    pytester.makepyfile(
        f"""
        import os

        def test_delete():
            os.remove({str(production / "p.tsv")!r})
        """
    )
    result = pytester.runpytest_subprocess()
    result.stdout.fnmatch_lines(
        [
            "*ProductionWriteError: test_message_names_test_path_operation_and_remedy.py::"
            "test_delete tried to delete protected production path*p.tsv*allow_production_writes*"
        ]
    )
    assert (production / "p.tsv").exists()


def test_the_librarys_own_atomic_replace_is_stopped_before_it_replaces(pytester, production):
    # publish() (every write_table, manifest and baseline write) is stopped, not detected.
    pytester.makepyfile(
        f"""
        from artifact_manager.storage.atomic import publish

        def test_replace(tmp_path):
            temp = tmp_path / "new.tsv"
            temp.write_text("from a test\\n")
            publish(temp, {str(production / "p.tsv")!r}, replace=True, durable=False)
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*tried to rename into protected production path*p.tsv*"])
    assert (production / "p.tsv").read_text() == "production\n"


def test_report_lists_violations(pytester, production):
    pytester.makepyfile(
        f"""
        def test_write():
            open({str(production / "p.tsv")!r}, "a")
        """
    )
    pytester.runpytest_subprocess("--artifacts-report=r.json")
    report = json.loads((pytester.path / "r.json").read_text())
    (test,) = report["tests"]
    (violation,) = test["violations"]
    assert violation["operation"] == "open for writing"
    assert violation["path"].endswith("meta_models/p.tsv")
    assert violation["layer"] == "prevented"


def test_protect_and_allow_ini_paths(pytester, production):
    (pytester.path / "reference").mkdir()
    scratch = production.parent / "scratch"
    scratch.mkdir()
    pytester.makeini(
        "[pytest]\nartifacts_protect =\n    reference\n"
        f"artifacts_allow =\n    {scratch.relative_to(pytester.path)}\n"
    )
    pytester.makepyfile(
        f"""
        def test_protected():
            open({str(pytester.path / "reference" / "g.fa")!r}, "w")

        def test_allowed():
            open({str(scratch / "tmp.tsv")!r}, "w")
        """
    )
    result = pytester.runpytest_subprocess("-v")
    result.stdout.fnmatch_lines(["*::test_protected FAILED*"])
    result.stdout.fnmatch_lines(["*::test_allowed PASSED*"])


def test_leading_dirs_and_tests_trees_are_writable(pytester):
    pytester.makepyfile(
        """
        import os
        from artifact_manager import ArtifactConfig, ArtifactManager

        def test_pipeline(artifact_config):
            os.makedirs("data/gencode/GRCh38/osai_eval/tests/mine", exist_ok=True)
            manager = ArtifactManager(ArtifactConfig(coverage="full_genome", build="GRCh38"))
            manager.get_artifact_path("x.tsv", create_dir=True).write_text("x")
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


@pytest.mark.parametrize("args", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_strict_stops_subprocesses_and_native_code(pytester, production, args, tmp_path):
    pytester.makepyfile(
        f"""
        import ctypes, subprocess

        P = {str(production)!r}

        def test_subprocess():
            subprocess.run(["sh", "-c", f"echo x > {{P}}/sh.tsv"], check=True)

        def test_ctypes():
            libc = ctypes.CDLL(None)
            libc.fopen.restype = ctypes.c_void_p
            assert libc.fopen(f"{{P}}/c.tsv".encode(), b"w") is None

        def test_own_dir_and_tmp_path_still_work(test_artifacts_dir, tmp_path):
            subprocess.run(["sh", "-c", f"echo x > {{test_artifacts_dir}}/ok.tsv"], check=True)
            (tmp_path / "ok").write_text("x")

        def test_reads_still_work():
            assert open(f"{{P}}/p.tsv").read() == "production\\n"
        """
    )
    # pytester puts --basetemp in the rootdir, an ancestor of the data root, where strict mode
    # lets nothing new be created: give it one outside (the default /tmp one is fine).
    basetemp = f"--basetemp={tmp_path / 'basetemp'}"
    result = pytester.runpytest_subprocess("--artifacts-guard=strict", basetemp, *args)
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*test_subprocess*"])
    assert sorted(p.name for p in production.iterdir()) == ["p.tsv"]


def test_strict_writes_its_report_beside_the_data_root(pytester, production):
    pytester.makepyfile("def test_a(test_artifacts_dir): pass")
    result = pytester.runpytest_subprocess("--artifacts-guard=strict", "--artifacts-report=r.json")
    result.assert_outcomes(passed=1)
    assert json.loads((pytester.path / "r.json").read_text())["tests"]


def test_strict_without_landlock_stops_at_start(pytester, monkeypatch):
    monkeypatch.setenv("ARTIFACT_MANAGER_NO_LANDLOCK", "1")
    monkeypatch.setenv("ARTIFACT_MANAGER_NO_MOUNT_NAMESPACE", "1")
    pytester.makepyfile("def test_a(): pass")
    result = pytester.runpytest_subprocess("--artifacts-guard=strict")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*strict needs Linux Landlock*use --artifacts-guard=on*"])


def test_xfail_naming_the_guard_error_stays_expected_and_the_session_passes(pytester, production):
    pytester.makepyfile(
        f"""
        import pytest
        from artifact_manager import ProductionWriteError

        @pytest.mark.xfail(raises=ProductionWriteError, strict=True, reason="guard demo")
        def test_demo():
            open({str(production / "p.tsv")!r}, "w")
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    assert (production / "p.tsv").read_text() == "production\n"


@pytest.mark.parametrize(
    ("write", "library"),
    [
        pytest.param("open(PATH, 'w')", "", id="audit-hook"),
        pytest.param("pl.DataFrame({'a': [1]}).write_csv(PATH)", "polars", id="layer-2"),
    ],
)
def test_a_guard_failure_points_at_the_users_line_not_the_guards(
    pytester, production, write, library
):
    path = str(production / "p.tsv")
    pytester.makepyfile(
        f"""
        import polars as pl

        PATH = {path!r}

        def test_write():
            {write}  # the user's line
        """
    )
    result = pytester.runpytest_subprocess("--tb=long")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert "# the user's line" in text
    assert "ProductionWriteError" in text
    for frame in ("guard/audit.py", "guard/writers.py", "def guarded", "def check"):
        assert frame not in text, frame


def test_symlinks_planted_in_the_tests_tree_lead_writes_into_production(
    pytester, production, tests_root
):
    """The guard remembers resolved dirs across phases (guard/resolution.py): a dir swapped
    for a symlink into production, in process or by a subprocess, in the same phase or an
    earlier one, is still followed to where it leads."""
    (production / "sub").mkdir()
    pytester.makepyfile(
        f"""
        import os
        import subprocess

        import pytest

        PROD = {str(production)!r}
        TESTS = {str(tests_root)!r}

        def test_warms_the_guard(test_artifacts_dir):
            (test_artifacts_dir / "sub").mkdir()
            (test_artifacts_dir / "sub" / "ok.tsv").write_text("ok")

        def test_link_in_its_own_dir(test_artifacts_dir):
            (test_artifacts_dir / "sub").mkdir()
            (test_artifacts_dir / "sub" / "ok.tsv").write_text("ok")
            os.rename(test_artifacts_dir / "sub", test_artifacts_dir / "old")
            os.symlink(PROD, test_artifacts_dir / "sub")
            open(test_artifacts_dir / "sub" / "a.tsv", "w")

        @pytest.fixture
        def planted(test_artifacts_dir):
            os.symlink(PROD, test_artifacts_dir / "sub")
            return test_artifacts_dir / "sub"

        def test_link_made_in_setup_and_written_through_in_call(planted):
            open(planted / "b.tsv", "w")

        @pytest.fixture
        def swapped(test_artifacts_dir):
            sub = test_artifacts_dir / "sub"
            sub.mkdir()
            (sub / "ok.tsv").write_text("ok")  # the guard has resolved sub
            swap = f"rm -r '{{sub}}' && ln -s '{{PROD}}' '{{sub}}'"
            subprocess.run(["sh", "-c", swap], check=True)
            return sub

        def test_dir_swapped_by_a_subprocess_in_setup(swapped):
            open(swapped / "c.tsv", "w")

        def test_parent_reference_through_a_link(test_artifacts_dir):
            os.symlink(os.path.join(PROD, "sub"), test_artifacts_dir / "link")
            open(str(test_artifacts_dir / "link") + "/../d.tsv", "w")  # lands in PROD

        def test_tests_root_swapped_for_a_link(test_artifacts_dir):
            os.rename(TESTS, TESTS + ".moved")
            os.symlink(PROD, TESTS)
            open(os.path.join(TESTS, "e.tsv"), "w")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=5)
    assert sorted(p.name for p in production.iterdir()) == ["p.tsv", "sub"]
    assert list((production / "sub").iterdir()) == []
    assert result.stdout.str().count("ProductionWriteError") >= 5
