"""Command-line options, ini keys and the settings resolved from them.

Precedence for every setting: command line > ini > environment (``ARTIFACTS_DATA_ROOT``, for
the data root only) > default. Relative paths: from the command line or the environment,
relative to the invocation dir; from the ini file, relative to the ini file's dir; the
default ``data`` is relative to the rootdir.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Literal, NamedTuple, get_args

import pytest

from artifact_manager.errors import ArtifactConfigError
from artifact_manager.paths import (
    DEFAULT_BASE_MODEL,
    DEFAULT_BUILD,
    DEFAULT_DATA_ROOT,
    DEFAULT_SOURCE,
    ENV_DATA_ROOT,
    TESTS_DIRNAME,
    eval_dir,
)
from artifact_manager.plugin.guarding import GUARD_MODES, GuardMode
from artifact_manager.sessions import DEFAULT_RETENTION_COUNT
from artifact_manager.validation import validate_component

__all__ = [
    "KEEP_CHOICES",
    "UPDATE_CHOICES",
    "BaselineSettings",
    "Keep",
    "PluginSettings",
    "UpdateBaselines",
    "add_options",
]

Keep = Literal["none", "failed", "all"]
KEEP_CHOICES: tuple[Keep, ...] = get_args(Keep)
UpdateBaselines = Literal["none", "failed", "all"]
UPDATE_CHOICES: tuple[UpdateBaselines, ...] = get_args(UpdateBaselines)
DEFAULT_LOCK_TIMEOUT = 60.0

# (option, dest, ini key, help, default)
_NAME_OPTIONS = (
    (
        "--artifacts-source",
        "artifacts_source",
        "artifacts_source",
        "Source dir name",
        DEFAULT_SOURCE,
    ),
    ("--artifacts-build", "artifacts_build", "artifacts_build", "Build dir name", DEFAULT_BUILD),
    (
        "--artifacts-base-model",
        "artifacts_base_model",
        "artifacts_base_model",
        "Base model name (dir <name>_eval)",
        DEFAULT_BASE_MODEL,
    ),
)


def add_options(parser: pytest.Parser) -> None:
    """Register every option and ini key of the plugin."""
    group = parser.getgroup("artifact-manager", "per-test artifact dirs (pytest-artifact-manager)")
    group.addoption(
        "--artifacts-root",
        dest="artifacts_root",
        default=None,
        metavar="PATH",
        help="Data root holding <source>/<build>/<model>_eval (ini artifacts_data_root, "
        f"env {ENV_DATA_ROOT}); default: {DEFAULT_DATA_ROOT} under the rootdir",
    )
    parser.addini(
        "artifacts_data_root",
        f"Data root, relative to the ini file's dir; default: {DEFAULT_DATA_ROOT}",
        default="",
    )
    for option, dest, ini, text, default in _NAME_OPTIONS:
        group.addoption(
            option, dest=dest, default=None, help=f"{text} (ini {ini}); default: {default}"
        )
        parser.addini(ini, f"{text}; default: {default}", default="")
    _add_flag_with_values(
        group,
        "--keep-artifacts",
        "keep_artifacts",
        bare="all",
        values=KEEP_CHOICES,
        default=None,
        help="Keep test artifact dirs: bare keeps all, --keep-artifacts=failed keeps failed "
        "tests' dirs, =none deletes all (ini artifacts_keep); default: none",
    )
    parser.addini("artifacts_keep", "Which test artifact dirs to keep: none|failed|all", default="")
    parser.addini(
        "artifacts_retention_count",
        "Kept test artifact dirs of this many sessions survive (the new one counts); older "
        f"ones are removed at session start; an integer >= 1; default: {DEFAULT_RETENTION_COUNT}",
        default="",
    )
    group.addoption(
        "--artifacts-report",
        dest="artifacts_report",
        default=None,
        metavar="PATH",
        help="Write a JSON report of each test's artifacts and violations to PATH; default: none",
    )
    group.addoption(
        "--artifacts-html",
        dest="artifacts_html",
        default=None,
        metavar="PATH",
        help="Write an HTML report with previews of the kept tables and images to PATH "
        "(ini artifacts_html); default: none",
    )
    parser.addini(
        "artifacts_html",
        "HTML report path, relative to the ini file's dir; default: none",
        default="",
    )
    group.addoption(
        "--artifacts-lock-timeout",
        dest="artifacts_lock_timeout",
        default=None,
        metavar="SECONDS",
        help="How long a test waits for another session holding its dir "
        f"(ini artifacts_lock_timeout); default: {DEFAULT_LOCK_TIMEOUT:g}",
    )
    group.addoption(
        "--artifacts-guard",
        dest="artifacts_guard",
        default=None,
        choices=GUARD_MODES,
        help="Production guard: off, on (stop in-process writes, detect the rest) or strict "
        "(also kernel enforcement) (ini artifacts_guard); default: on",
    )
    parser.addini("artifacts_guard", "Production guard: off|on|strict; default: on", default="")
    parser.addini(
        "artifacts_protect",
        "Extra paths the guard protects (one per line, relative to the ini file)",
        type="paths",
        default=[],
    )
    parser.addini(
        "artifacts_allow",
        "Paths the guard lets tests write (one per line, relative to the ini file)",
        type="paths",
        default=[],
    )
    parser.addini(
        "artifacts_lock_timeout",
        "Seconds to wait for a test dir held by another session; "
        f"default: {DEFAULT_LOCK_TIMEOUT:g}",
        default="",
    )
    _add_baseline_options(group)


def _add_flag_with_values(
    group: pytest.OptionGroup,
    option: str,
    dest: str,
    *,
    bare: str,
    values: tuple[str, ...],
    default: str | None,
    help: str,
) -> None:
    """``--flag`` (meaning ``bare``) and ``--flag=<value>`` for each value, registered as exact
    option strings, so a bare ``--flag`` never swallows the path that follows it."""
    group.addoption(option, dest=dest, action="store_const", const=bare, default=default, help=help)
    for value in values:
        group.addoption(
            f"{option}={value}",
            dest=dest,
            action="store_const",
            const=value,
            help=argparse.SUPPRESS,
        )


def _add_baseline_options(group: pytest.OptionGroup) -> None:
    """Table baselines (``table_regression``): command line only, never ini, so a config file
    cannot make every run rewrite baselines."""
    _add_flag_with_values(
        group,
        "--update-baselines",
        "update_baselines",
        bare="failed",
        values=UPDATE_CHOICES,
        default="none",
        help="Write table baselines: bare writes those that are missing or differ, "
        "--update-baselines=all rewrites every checked one; default: write none",
    )
    group.addoption(
        "--prune-baselines",
        dest="prune_baselines",
        action="store_true",
        default=False,
        help="After a full run, delete the table baselines no test checked; default: only "
        "list them",
    )


def _pick(config: pytest.Config, dest: str, ini: str) -> tuple[str | None, str]:
    """(value, where) from the command line, else the ini file, else (None, "")."""
    value = config.getoption(dest)
    if value is not None:
        return str(value), "command line"
    ini_value = str(config.getini(ini) or "").strip()
    if ini_value:
        return ini_value, "ini"
    return None, ""


def _retention_count(config: pytest.Config) -> int:
    value = str(config.getini("artifacts_retention_count") or "").strip()
    if not value:
        return DEFAULT_RETENTION_COUNT
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise pytest.UsageError(
            f"artifacts_retention_count={value!r} (from ini) is not an integer >= 1; "
            f"pass e.g. {DEFAULT_RETENTION_COUNT}"
        )
    return count


def _resolve_data_root(config: pytest.Config) -> Path:
    invocation_dir = Path(config.invocation_params.dir)
    value, where = _pick(config, "artifacts_root", "artifacts_data_root")
    if value is not None:
        base = invocation_dir
        if where == "ini" and config.inipath is not None:
            base = config.inipath.parent
        return base / Path(value).expanduser()
    env = os.environ.get(ENV_DATA_ROOT, "").strip()
    if env:
        return invocation_dir / Path(env).expanduser()
    return config.rootpath / DEFAULT_DATA_ROOT


def _report_file(name: str, value: str, where: str, base: Path, example: str) -> Path:
    """The file a report is written to at the session's end: ``value`` from ``where``,
    relative to ``base``. A value no file can be written at (empty, a dir, under a file) is
    a ``pytest.UsageError`` now, not a traceback when the session ends."""
    from artifact_manager.reporting.schema import output_problem  # only when asked for

    path = base / Path(value).expanduser()
    found = output_problem(value, path, example)
    if found is not None:
        problem, remedy = found
        raise pytest.UsageError(f"{name}={value!r} (from {where}) {problem}; {remedy}")
    return path


def _resolve_report_paths(config: pytest.Config) -> tuple[Path | None, Path | None]:
    """The JSON and the HTML report's paths (``None``: not asked for)."""
    invocation_dir = Path(config.invocation_params.dir)
    report = config.getoption("artifacts_report")
    report_path = None
    if report is not None:
        report_path = _report_file(
            "--artifacts-report", str(report), "command line", invocation_dir, "report.json"
        )
    value, where = _pick(config, "artifacts_html", "artifacts_html")
    html_path = None
    if value is not None:
        base = invocation_dir
        if where == "ini" and config.inipath is not None:
            base = config.inipath.parent
        name = "--artifacts-html" if where == "command line" else "artifacts_html"
        html_path = _report_file(name, value, where, base, "report.html")
    if report_path is not None and report_path == html_path:
        raise pytest.UsageError(
            f"--artifacts-report and the HTML report are both {str(report_path)!r}; give "
            "each report a file of its own (e.g. report.json and report.html)"
        )
    return report_path, html_path


class PluginSettings(NamedTuple):
    """The plugin's settings for one session, resolved once from options, ini and env."""

    data_root: Path
    source: str
    build: str
    base_model: str
    keep: Keep
    report_path: Path | None
    lock_timeout: float
    guard: GuardMode = "on"
    protect: tuple[Path, ...] = ()
    allow: tuple[Path, ...] = ()
    html_path: Path | None = None
    retention_count: int = DEFAULT_RETENTION_COUNT

    @property
    def reports_files(self) -> bool:
        """Whether a report lists each test's files (JSON or HTML report asked for)."""
        return self.report_path is not None or self.html_path is not None

    @property
    def eval_dir(self) -> Path:
        """The configured layout's eval dir (``data_root/<source>/<build>/<model>_eval``)."""
        return eval_dir(self.data_root, self.source, self.build, self.base_model)

    @property
    def tests_root(self) -> Path:
        """The configured layout's tests root, where test dirs live by default."""
        return self.eval_dir / TESTS_DIRNAME

    def keeps(self, failed: bool) -> bool:
        """Whether the keep policy keeps a dir whose test (or, for a shared dir, any test of
        the session) ``failed``: ``all`` keeps every dir, ``failed`` those, ``none`` none."""
        return self.keep == "all" or (self.keep == "failed" and failed)

    @classmethod
    def from_config(cls, config: pytest.Config) -> PluginSettings:
        """Resolve the settings; a bad value raises ``pytest.UsageError`` naming it."""
        names: dict[str, str] = {}
        for option, dest, ini, _text, default in _NAME_OPTIONS:
            value, where = _pick(config, dest, ini)
            try:
                names[dest] = validate_component(option.lstrip("-"), value or default)
            except ArtifactConfigError as error:
                raise pytest.UsageError(f"{error} (from {where})") from None
        keep_value, where = _pick(config, "keep_artifacts", "artifacts_keep")
        keep = keep_value or "none"
        if keep not in KEEP_CHOICES:
            raise pytest.UsageError(
                f"artifacts_keep={keep!r} (from {where}) is not one of {', '.join(KEEP_CHOICES)}"
            )
        timeout_value, where = _pick(config, "artifacts_lock_timeout", "artifacts_lock_timeout")
        try:
            lock_timeout = float(timeout_value) if timeout_value else DEFAULT_LOCK_TIMEOUT
        except ValueError:
            raise pytest.UsageError(
                f"artifacts_lock_timeout={timeout_value!r} (from {where}) is not a number "
                "of seconds; pass e.g. 60"
            ) from None
        guard, where = _pick(config, "artifacts_guard", "artifacts_guard")
        if guard is not None and guard not in GUARD_MODES:
            raise pytest.UsageError(
                f"artifacts_guard={guard!r} (from {where}) is not one of {', '.join(GUARD_MODES)}"
            )
        report_path, html_path = _resolve_report_paths(config)
        return cls(
            retention_count=_retention_count(config),
            data_root=_resolve_data_root(config),
            source=names["artifacts_source"],
            build=names["artifacts_build"],
            base_model=names["artifacts_base_model"],
            keep=keep,
            report_path=report_path,
            lock_timeout=lock_timeout,
            guard=guard or "on",
            protect=tuple(Path(p) for p in config.getini("artifacts_protect")),
            allow=tuple(Path(p) for p in config.getini("artifacts_allow")),
            html_path=html_path,
        )


class BaselineSettings(NamedTuple):
    """Table baseline settings for one session (``table_regression``)."""

    update: UpdateBaselines = "none"
    prune: bool = False

    @classmethod
    def from_config(cls, config: pytest.Config) -> BaselineSettings:
        update = config.getoption("update_baselines", "none") or "none"
        if update not in UPDATE_CHOICES:  # only reachable through a plugin setting it
            raise pytest.UsageError(
                f"update_baselines={update!r} is not one of {', '.join(UPDATE_CHOICES)}"
            )
        return cls(update=update, prune=bool(config.getoption("prune_baselines", False)))
