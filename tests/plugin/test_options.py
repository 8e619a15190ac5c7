from __future__ import annotations

import re

import pytest

from artifact_manager.plugin.options import PluginSettings

OPTIONS = [
    "--artifacts-root",
    "--artifacts-source",
    "--artifacts-build",
    "--artifacts-base-model",
    "--keep-artifacts",
    "--artifacts-report",
    "--artifacts-lock-timeout",
]
# An option's own line in --help is indented by two spaces; wrapped help text by more.
OPTION_LINE = re.compile(r"^  (--[a-z-]+(?:=[a-z]+)?)")
INI_KEYS = [
    "artifacts_data_root",
    "artifacts_source",
    "artifacts_build",
    "artifacts_base_model",
    "artifacts_keep",
    "artifacts_lock_timeout",
]


def settings(pytester: pytest.Pytester, *args: str) -> PluginSettings:
    return PluginSettings.from_config(pytester.parseconfigure(*args))


def test_every_option_and_ini_key_is_in_help(pytester):
    result = pytester.runpytest("--help")
    for name in OPTIONS + INI_KEYS:
        result.stdout.fnmatch_lines([f"*{name}*"])
    # the exact-value spellings are hidden: one help entry for --keep-artifacts
    defined = [m.group(1) for m in map(OPTION_LINE.match, result.stdout.lines) if m]
    assert "--keep-artifacts" in defined
    assert not [option for option in defined if option.startswith("--keep-artifacts=")]


def test_defaults(pytester):
    s = settings(pytester)
    assert s.data_root == pytester.path / "data"
    assert (s.source, s.build, s.base_model) == ("ensembl", "GRCh37", "spliceai")
    assert (s.keep, s.report_path, s.lock_timeout) == ("none", None, 60.0)


def test_data_root_command_line_beats_ini_beats_env(pytester, monkeypatch, tmp_path):
    monkeypatch.setenv("ARTIFACTS_DATA_ROOT", str(tmp_path / "from_env"))
    assert settings(pytester).data_root == tmp_path / "from_env"
    pytester.makeini("[pytest]\nartifacts_data_root = from_ini\n")
    assert settings(pytester).data_root == pytester.path / "from_ini"
    assert settings(pytester, "--artifacts-root", str(tmp_path / "cli")).data_root == (
        tmp_path / "cli"
    )


def test_relative_paths_resolve_against_their_source(pytester, monkeypatch):
    sub = pytester.mkdir("sub")
    pytester.makeini("[pytest]\nartifacts_data_root = ini_root\n")
    monkeypatch.chdir(sub)
    config = pytester.parseconfigure("--rootdir", str(pytester.path))
    # ini values: relative to the ini file's dir; command line: relative to the invocation dir
    assert PluginSettings.from_config(config).data_root == pytester.path / "ini_root"
    config = pytester.parseconfigure("--rootdir", str(pytester.path), "--artifacts-root=cli")
    assert PluginSettings.from_config(config).data_root == sub / "cli"


@pytest.mark.parametrize(
    ("option", "ini", "attribute"),
    [
        ("--artifacts-source", "artifacts_source", "source"),
        ("--artifacts-build", "artifacts_build", "build"),
        ("--artifacts-base-model", "artifacts_base_model", "base_model"),
    ],
)
def test_names_command_line_beats_ini(pytester, option, ini, attribute):
    pytester.makeini(f"[pytest]\n{ini} = from_ini\n")
    assert getattr(settings(pytester), attribute) == "from_ini"
    assert getattr(settings(pytester, f"{option}=from_cli"), attribute) == "from_cli"


@pytest.mark.parametrize(
    ("args", "ini", "expected"),
    [
        ([], "", "none"),
        (["--keep-artifacts"], "", "all"),
        (["--keep-artifacts=failed"], "", "failed"),
        (["--keep-artifacts=all"], "", "all"),
        (["--keep-artifacts=none"], "all", "none"),
        ([], "failed", "failed"),
        (["--keep-artifacts"], "failed", "all"),
    ],
)
def test_keep_policy_resolution(pytester, args, ini, expected):
    if ini:
        pytester.makeini(f"[pytest]\nartifacts_keep = {ini}\n")
    assert settings(pytester, *args).keep == expected


def test_bare_keep_artifacts_does_not_swallow_a_path(pytester):
    pytester.mkpydir("tests").joinpath("test_x.py").write_text("def test_x(): pass\n")
    pytester.makepyfile(test_outside="def test_outside(): pass")
    result = pytester.runpytest("--keep-artifacts", "tests/")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*tests/test_x.py*"])


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (["--artifacts-build=../etc"], "", "invalid artifacts-build='../etc'*command line"),
        ([], "artifacts_source = a/b", "invalid artifacts-source='a/b'*ini"),
        ([], "artifacts_keep = some", "artifacts_keep='some' (from ini) is not one of none"),
        (["--artifacts-lock-timeout=soon"], "", "artifacts_lock_timeout='soon'*not a number"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_value(pytester, args, ini, message):
    if ini:
        pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile("def test_a(): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_unknown_keep_value_is_refused(pytester):
    pytester.makepyfile("def test_a(): pass")
    result = pytester.runpytest("--keep-artifacts=sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_plugin_can_be_disabled(pytester):
    pytester.makepyfile("def test_a(test_artifacts_dir): pass")
    result = pytester.runpytest("-p", "no:artifact_manager")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'test_artifacts_dir' not found*"])


def test_no_warnings_under_strict_settings(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.artifacts(build="GRCh38")
        def test_a(test_artifacts_dir):
            (test_artifacts_dir / "a.tsv").write_text("x")
        """
    )
    result = pytester.runpytest(
        "--strict-markers", "--strict-config", "-W", "error", "--keep-artifacts=failed"
    )
    result.assert_outcomes(passed=1, warnings=0)
