"""The ``artifact-manager`` command line: parse, call the core, print. Nothing else.

Exit status: 0 when all is well, 1 when a problem was found (validation), 2 on a usage error
or bad input (missing data root, unknown layout dir, bad value).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from enum import IntEnum
from pathlib import Path
from typing import Any

from artifact_manager.config import (
    DEFAULT_BASE_MODEL,
    DEFAULT_BUILD,
    DEFAULT_DATA_ROOT,
    DEFAULT_SOURCE,
    ENV_DATA_ROOT,
    ArtifactConfig,
    Mode,
)
from artifact_manager.errors import ArtifactError, ArtifactManifestError, ArtifactUsageError
from artifact_manager.layout import EVAL_SUFFIX, Layout, is_internal_name
from artifact_manager.manager import ArtifactManager
from artifact_manager.naming import nodeid_to_test_name
from artifact_manager.reporting import merge_reports, read_report, write_html, write_report
from artifact_manager.reporting.schema import output_problem
from artifact_manager.storage.retention import KeepMarker

__all__ = ["ExitCode", "build_parser", "main"]


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS_FOUND = 1
    USAGE_ERROR = 2


class _UsageError(Exception):
    pass


def _common(defaults: bool) -> argparse.ArgumentParser:
    """The options every command takes; the commands' copy has no defaults of its own, so an
    option given before the command is not reset by the command's parser."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    common = argparse.ArgumentParser(add_help=False)
    # Each also under the plugin's spelling (--artifacts-root, ...), so a command line can be
    # copied from one to the other.
    for option, dest, value, text in (
        (
            "root",
            "root",
            None,
            f"Data root (default: ${ENV_DATA_ROOT}, else ./{DEFAULT_DATA_ROOT})",
        ),
        ("source", "source", DEFAULT_SOURCE, f"Source dir name (default: {DEFAULT_SOURCE})"),
        ("build", "build", DEFAULT_BUILD, f"Build dir name (default: {DEFAULT_BUILD})"),
        (
            "base-model",
            "base_model",
            DEFAULT_BASE_MODEL,
            f"Base model name (default: {DEFAULT_BASE_MODEL})",
        ),
    ):
        common.add_argument(
            f"--{option}", f"--artifacts-{option}", dest=dest, default=default(value), help=text
        )
    common.add_argument(
        "--test-name", default=default(None), help="Look at this test's dir instead of production"
    )
    common.add_argument(
        "--json", action="store_true", default=default(False), help="Print JSON for machines"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="artifact-manager",
        description="Inspect, validate and clean artifact dirs of pytest-artifact-manager.",
        parents=[_common(defaults=True)],
    )
    common = _common(defaults=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser("summary", parents=[common], help="What the artifacts dir holds")
    listing = commands.add_parser("list", parents=[common], help="List artifacts")
    listing.add_argument("--pattern", default="*", help="Glob pattern (default: *)")
    commands.add_parser("validate", parents=[common], help="Check artifacts against the manifest")
    clean = commands.add_parser("clean", parents=[common], help="Remove old test dirs")
    clean.add_argument("--keep-recent", type=int, required=True, metavar="N")
    clean.add_argument("--dry-run", action="store_true", help="Only say what would go")
    commands.add_parser("versions", parents=[common], help="List published versions")
    locate = commands.add_parser(
        "locate", parents=[common], help="Print the test dir of a pytest node id"
    )
    locate.add_argument("nodeid", metavar="NODEID", help="e.g. tests/test_io.py::test_write[5]")
    report = commands.add_parser(
        "report",
        help="Render the HTML report from JSON reports (pytest --artifacts-report); "
        "several (CI shards) are merged into one",
    )
    report.add_argument("--html", metavar="OUT", type=Path, help="Page to write")
    report.add_argument(
        "--json", dest="json_out", metavar="OUT", type=Path, help="Merged JSON report to write"
    )
    report.add_argument("json_reports", metavar="JSON_REPORT", type=Path, nargs="+")
    return parser


def _data_root(args: argparse.Namespace) -> Path:
    return Path(args.root or os.environ.get(ENV_DATA_ROOT) or DEFAULT_DATA_ROOT)


def _locate(args: argparse.Namespace) -> int:
    """The test dir of a node id (as the plugin names it); exit 1 if it is not on disk."""
    config = ArtifactConfig(
        mode="test",
        source=args.source,
        build=args.build,
        base_model=args.base_model,
        test_name=nodeid_to_test_name(args.nodeid),
        data_root=_data_root(args),
    )
    layout = Layout.from_config(config)
    root = layout.test_root
    assert root is not None
    exists = os.path.isdir(root) and not os.path.islink(root)
    marker = KeepMarker.read(root) if exists else None
    data = {
        "nodeid": args.nodeid,
        "test_name": config.test_name,
        "test_root": str(root),
        "artifacts_dir": str(layout.artifacts_dir),
        "exists": exists,
        "kept": marker._asdict() if marker is not None else None,
    }
    if args.json:
        _print(args, data, [])
    if not exists:
        print(
            f"artifact-manager: no test dir {str(root)!r} for {args.nodeid!r}; run the test "
            "with --keep-artifacts (or check --root/--source/--build/--base-model)",
            file=sys.stderr,
        )
        return ExitCode.PROBLEMS_FOUND
    if not args.json:
        print(root)
    return ExitCode.OK


def _manager(args: argparse.Namespace) -> ArtifactManager:
    root = _data_root(args)
    if not root.is_dir():
        what = "is not a dir" if os.path.lexists(root) else "does not exist"
        raise _UsageError(f"data root {str(root)!r} {what}; pass --root or set {ENV_DATA_ROOT}")
    mode: Mode = "test" if args.test_name else "production"
    config = ArtifactConfig(
        mode=mode,
        source=args.source,
        build=args.build,
        base_model=args.base_model,
        test_name=args.test_name,
        data_root=root,
    )
    manager = ArtifactManager(config)
    eval_dir = manager.layout.eval_dir
    if not eval_dir.is_dir():
        parent = eval_dir.parent
        known = (
            sorted(p.name[: -len(EVAL_SUFFIX)] for p in parent.glob(f"*{EVAL_SUFFIX}"))
            if parent.is_dir()
            else []
        )
        raise _UsageError(
            f"no dir {str(eval_dir)!r}; known base models under {str(parent)!r}: "
            f"{', '.join(known) or 'none'} (pass --source/--build/--base-model)"
        )
    test_root = manager.layout.test_root
    if test_root is not None and not os.path.isdir(test_root):
        tests_root = manager.layout.tests_root
        known = (
            sorted(
                p.name for p in tests_root.iterdir() if p.is_dir() and not is_internal_name(p.name)
            )
            if tests_root.is_dir()
            else []
        )
        raise _UsageError(
            f"no test dir {str(test_root)!r}; test dirs under {str(tests_root)!r}: "
            f"{', '.join(known) or 'none'} (a test's dir stays only with --keep-artifacts; "
            "'artifact-manager locate NODEID' prints a test's name)"
        )
    return manager


def _print(args: argparse.Namespace, data: Any, lines: Sequence[str]) -> None:
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        for line in lines:
            print(line)


def _summary(args: argparse.Namespace, manager: ArtifactManager) -> int:
    summary = manager.get_summary()
    summary["versions"] = manager.list_versions()
    tests_root = manager.layout.tests_root
    summary["test_dirs"] = (
        sorted(p.name for p in tests_root.iterdir() if p.is_dir() and not is_internal_name(p.name))
        if tests_root.is_dir()
        else []
    )
    width = max(len(k) for k in summary)
    lines = [
        f"{k.ljust(width)}  {v if not isinstance(v, list) else len(v)}" for k, v in summary.items()
    ]
    _print(args, summary, lines)
    return ExitCode.OK


def _list(args: argparse.Namespace, manager: ArtifactManager) -> int:
    root = manager.get_artifacts_dir()
    rows = [
        {"name": p.relative_to(root).as_posix(), "size": p.stat().st_size}
        for p in manager.list_artifacts(args.pattern)
    ]
    lines = [f"{row['size']:>12}  {row['name']}" for row in rows] or ["(no artifacts)"]
    _print(args, rows, lines)
    return ExitCode.OK


def _validate(args: argparse.Namespace, manager: ArtifactManager) -> int:
    artifacts_dir = manager.get_artifacts_dir()
    if not os.path.isdir(artifacts_dir):
        # Nothing to compare: saying "ok" would vouch for artifacts that are not there.
        empty: dict[str, Any] = {"missing": [], "modified": [], "unlisted": []}
        _print(args, {**empty, "ok": False, "missing_dir": str(artifacts_dir)}, [])
        print(
            f"artifact-manager: error: no artifacts dir {str(artifacts_dir)!r}: nothing was written"
            " there (or --source/--build/--base-model/--test-name name another)",
            file=sys.stderr,
        )
        return ExitCode.PROBLEMS_FOUND
    report = manager.validate_artifacts()
    lines = [
        f"{kind}: {name}" for kind in ("missing", "modified", "unlisted") for name in report[kind]
    ]
    lines.append("ok" if report.ok else f"{len(lines)} problem(s)")
    _print(args, report.as_dict(), lines)
    return ExitCode.OK if report.ok else ExitCode.PROBLEMS_FOUND


def _clean(args: argparse.Namespace, manager: ArtifactManager) -> int:
    if args.keep_recent < 0:
        raise _UsageError(f"--keep-recent {args.keep_recent} is negative; pass 0 or more")
    failed: list[dict[str, str]] = []

    def report(root: Path, error: OSError) -> None:
        failed.append({"path": str(root), "error": str(error)})
        print(
            f"artifact-manager: error: could not remove test dir {str(root)!r}: {error}; "
            "fix its permissions (or attributes) or remove it by hand, then run clean again",
            file=sys.stderr,
        )

    names = manager.cleanup_old_tests(args.keep_recent, on_error=report, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    lines = [f"{verb} {name}" for name in names] or ["nothing to remove"]
    if failed:
        lines.append(f"{len(failed)} dir(s) could not be removed")
    _print(args, {"dry_run": args.dry_run, "removed": names, "failed": failed}, lines)
    return ExitCode.PROBLEMS_FOUND if failed else ExitCode.OK


def _versions(args: argparse.Namespace, manager: ArtifactManager) -> int:
    names = manager.list_versions()
    latest = problem = None
    if os.path.lexists(manager.get_artifacts_dir() / "latest"):
        try:
            latest = manager.resolve_version().name
        except ArtifactError as error:  # dangling, misplaced, or a real dir or file: a finding
            problem = str(error)
    lines = [f"{name}{'  <- latest' if name == latest else ''}" for name in names] or [
        "(no versions)"
    ]
    data: dict[str, Any] = {"versions": names, "latest": latest}
    if problem is not None:
        data["latest_error"] = problem
    _print(args, data, lines)
    if problem is not None:
        print(f"artifact-manager: error: {problem}", file=sys.stderr)
        return ExitCode.PROBLEMS_FOUND
    return ExitCode.OK


def _report(args: argparse.Namespace) -> int:
    """Render (``--html``) and/or write (``--json``) one report, or the merge of several."""
    if args.html is None and args.json_out is None:
        raise _UsageError("report: nothing to write; give --html OUT, --json OUT or both")
    outputs = (("json", args.json_out, write_report), ("html", args.html, write_html))
    for kind, out, _ in outputs:  # before anything is read or written
        found = None if out is None else output_problem(str(out), out, f"report.{kind}")
        if found is not None:
            raise ArtifactUsageError(f"report --{kind}", str(out), *found)
    paths: list[Path] = args.json_reports
    reports = [read_report(path) for path in paths]
    report = reports[0] if len(reports) == 1 else merge_reports(paths, reports, now=time.time())
    for warning in report.get("warnings") or []:
        print(f"artifact-manager: warning: {warning}", file=sys.stderr)
    lines = []
    if len(reports) > 1:
        shards = report["shards"]
        again = sum(1 for t in report["tests"] if t.get("other_attempts"))
        lines.append(
            f"merged {len(shards)} shard(s) ({', '.join(s['label'] for s in shards)}): "
            f"{len(report['tests'])} test(s), {again} of them ran in more than one shard"
        )
    written, failed = {}, False
    for kind, out, write in outputs:
        if out is None:
            continue
        try:
            write(report, out)
        except OSError as error:  # the other is still written; the status says it failed
            print(
                f"artifact-manager: error: report --{kind}: could not write {str(out)!r}: "
                f"{error}; make its dir writable or pick another path",
                file=sys.stderr,
            )
            failed = True
            continue
        written[kind] = str(out)
        lines.append(f"wrote {out}")
    _print(args, written, lines)
    return ExitCode.PROBLEMS_FOUND if failed else ExitCode.OK


#: Commands that work on files given to them, not on a data root.
#: Commands that need no data root: they work on what they are given.
_STANDALONE = {"report": _report, "locate": _locate}

_COMMANDS = {
    "summary": _summary,
    "list": _list,
    "validate": _validate,
    "clean": _clean,
    "versions": _versions,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        return int(exit_.code or 0)
    try:
        if args.command in _STANDALONE:
            return _STANDALONE[args.command](args)
        return _COMMANDS[args.command](args, _manager(args))
    except ArtifactManifestError as error:
        print(f"artifact-manager: error: {error}", file=sys.stderr)
        return ExitCode.PROBLEMS_FOUND
    except (_UsageError, ArtifactError) as error:
        print(f"artifact-manager: error: {error}", file=sys.stderr)
        return ExitCode.USAGE_ERROR
