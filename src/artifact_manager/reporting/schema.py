"""The JSON report on disk: its schema version, and paths relative to the report.

A report (``pytest --artifacts-report=PATH``, or a merge of several) is one JSON object:

- ``schema`` (:data:`SCHEMA`) and ``schema_version`` (:data:`SCHEMA_VERSION`);
- ``run``: who made it (run id, host, start and end times, Python, pytest and plugin
  versions, the invocation's arguments, the split options, CI variables);
- ``tests``: one entry per test that made an artifact dir (or every test, with files listed);
- ``violations``: session-level guard violations; ``reaped``: dirs removed at session start;
- ``shards`` (merged reports only): one entry per merged run, its ``report`` relative to
  this one on disk.

Each test records its dirs twice: absolute (``test_root``, ``artifacts_dir``, where they were on
the machine that ran it) and relative to the report's own dir (``from_report``). Reading a
report back (:func:`read_report`) puts the dirs where the relative form says, so a report
downloaded beside its uploaded dirs points at the downloaded copies.

The report is valid UTF-8 JSON with no lone surrogates, which strict JSON readers refuse. A
file name that is not valid UTF-8 (Python holds its undecodable bytes as lone surrogates, as
:func:`os.fsdecode` gives them) is written as its shown form (``caf\\xe9.tsv``) in ``name``
with its exact bytes in ``name_hex``; :func:`read_report` gives the real name back. Any other
such string (a path in a violation) is written in its shown form only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from artifact_manager.errors import ArtifactUsageError
from artifact_manager.storage.atomic import replace_text

__all__ = [
    "DIR_KEYS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "output_problem",
    "plugin_version",
    "read_report",
    "report_json",
    "schema_version",
    "shown_text",
    "utc_timestamp",
    "write_report",
]

SCHEMA = "pytest-artifact-manager/report"
#: 1: the first release (no ``schema`` key, no run identity, absolute dirs only).
#: 2: ``schema``, ``run``, ``from_report`` dirs, per-test ``finished``, merged ``shards``.
SCHEMA_VERSION = 2
#: The dirs of a test entry that ``from_report`` records relative to the report.
DIR_KEYS = ("test_root", "artifacts_dir")


def utc_timestamp(seconds: float) -> str:
    """``seconds`` since the epoch as ISO 8601 in UTC, to the microsecond (sorts as text)."""
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="microseconds")


def plugin_version() -> str:
    """This package's installed version (``unknown`` when run from an uninstalled tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pytest-artifact-manager")
    except PackageNotFoundError:
        return "unknown"


_MAKE_ONE = "pass a file pytest --artifacts-report=PATH (or artifact-manager report --json) wrote"


def _relative(path: str, start: Path) -> str:
    try:
        return Path(os.path.relpath(path, start)).as_posix()
    except ValueError:  # another drive (Windows): only the absolute form exists
        return os.path.abspath(path)


def _is_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown_text(text: str) -> str:
    """``text`` as valid Unicode: the undecodable bytes of a name that is not valid UTF-8
    (held as lone surrogates, as :func:`os.fsdecode` gives them) as ``\\xe9`` escapes."""
    if _is_unicode(text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file name makes (read from a JSON escape)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _unicode_only(value: Any) -> Any:
    """``value`` with every string (keys too) in its :func:`shown_text` form."""
    if isinstance(value, str):
        return shown_text(value)
    if isinstance(value, dict):
        return {shown_text(str(k)): _unicode_only(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_unicode_only(v) for v in value]
    return value


def _with_relative_name(file: Mapping[str, Any], start: Path) -> dict[str, Any]:
    name = str(file.get("name"))
    if not _is_unicode(name):
        # Not valid UTF-8: the bytes go in name_hex (and no from_report: an absolute name
        # of another root is then looked for where it was).
        return {**file, "name": shown_text(name), "name_hex": os.fsencode(name).hex()}
    if not os.path.isabs(name) or os.path.isabs(relative := _relative(name, start)):
        return dict(file)
    return {**file, "from_report": relative}


def _with_relative_dirs(test: Mapping[str, Any], start: Path) -> dict[str, Any]:
    entry = dict(test)
    relative = {k: _relative(str(test[k]), start) for k in DIR_KEYS if test.get(k)}
    # A dir on another drive has no relative form: left out, the absolute path stands.
    entry["from_report"] = {k: v for k, v in relative.items() if not os.path.isabs(v)}
    if any(
        os.path.isabs(str(f.get("name"))) or not _is_unicode(str(f.get("name")))
        for f in test.get("files") or []
    ):
        # Files of the test's other roots (another layout) are named by absolute path.
        entry["files"] = [_with_relative_name(f, start) for f in test["files"]]
    attempts = test.get("other_attempts")
    if attempts:
        entry["other_attempts"] = [_with_relative_dirs(a, start) for a in attempts]
    return entry


def report_json(report: Mapping[str, Any], path: Path) -> str:
    """``report`` as the JSON text to write at ``path``: schema keys first, and every test's
    dirs also relative to ``path``'s dir."""
    start = Path(os.path.abspath(path)).parent
    # A first-release report rewritten stays version 1: it still names no run.
    version = SCHEMA_VERSION if isinstance(report.get("run"), dict) else 1
    document: dict[str, Any] = {"schema": SCHEMA, "schema_version": version}
    for key, value in report.items():
        if key == "tests":
            value = [_with_relative_dirs(t, start) for t in value]
        elif key == "shards":  # a merge: each shard's report, relative to this one
            value = [{**shard, "report": _relative(shard["report"], start)} for shard in value]
        document.setdefault(key, value)
    return json.dumps(_unicode_only(document), indent=2) + "\n"


def output_problem(value: str, path: Path, example: str) -> tuple[str, str] | None:
    """Why no report can be written at ``path`` (given as ``value``), and the remedy
    (``example``: a file name to suggest); None when one can. Checked before a session or a
    command starts, so that a bad path stops it at once rather than once it has run."""
    if not value.strip():
        return "is empty", f"pass a file path, e.g. {example}"
    if value.endswith(("/", os.sep)) or path.is_dir():
        inside = os.path.join(value.rstrip("/" + os.sep) or os.sep, example)
        return "is a directory", f"pass a file path in it, e.g. {inside}"
    parent = next((p for p in path.parents if os.path.lexists(p)), None)
    if parent is not None and not parent.is_dir():
        return (
            f"is under {str(parent)!r}, which is a file, not a directory",
            "pass a path whose dirs exist or can be made",
        )
    return None


def write_report(report: Mapping[str, Any], path: Path) -> None:
    """Write ``report`` to ``path`` (atomically; in place where strict mode allows no temp
    file beside it)."""
    replace_text(path, report_json(report, path))


def schema_version(report: Mapping[str, Any]) -> int:
    """The report's schema version; 1 for a first-release report, which has none."""
    version = report.get("schema_version", 1)
    return version if isinstance(version, int) and not isinstance(version, bool) else 0


def _relocated(test: Mapping[str, Any], start: Path) -> dict[str, Any]:
    entry = dict(test)
    relative = test.get("from_report")
    if isinstance(relative, Mapping):
        for key in DIR_KEYS:
            if isinstance(relative.get(key), str):
                entry[key] = os.path.normpath(start / relative[key])
    entry["files"] = [_relocated_file(f, start) for f in test.get("files") or []]
    attempts = test.get("other_attempts")
    if isinstance(attempts, list):
        entry["other_attempts"] = [_relocated(a, start) for a in attempts if isinstance(a, dict)]
    return entry


def _relocated_file(file: Mapping[str, Any], start: Path) -> Mapping[str, Any]:
    if isinstance(file.get("name_hex"), str):  # a name that is not valid UTF-8: its bytes
        real = {k: v for k, v in file.items() if k != "name_hex"}
        return {**real, "name": os.fsdecode(bytes.fromhex(file["name_hex"]))}
    if isinstance(file.get("from_report"), str):
        return {**file, "name": os.path.normpath(start / file["from_report"])}
    return file


#: Types of a test entry's fields (each optional, but ``nodeid``).
_TEST_FIELDS: dict[str, type | tuple[type, ...]] = {
    "nodeid": str,
    "test_name": str,
    "outcome": str,
    "test_root": str,
    "artifacts_dir": str,
    "kept": bool,
    "size": int,
    "duration": (int, float),
    "finished": str,
    "shard": str,
    "files": list,
    "violations": list,
    "from_report": dict,
    "other_attempts": list,
}
#: Types of a merged report's shard fields (each optional, but ``label`` and ``report``).
_SHARD_FIELDS: dict[str, type | tuple[type, ...]] = {
    "label": str,
    "report": str,
    "run": dict,
    "outcomes": dict,
    "tests": int,
    "kept": int,
    "kept_size": int,
}
_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    bool: "true or false",
    int: "an integer",
    list: "a list",
    dict: "an object",
}


def _field_problems(
    entry: Mapping[str, Any], at: str, fields: Mapping[str, type | tuple[type, ...]]
) -> Iterator[str]:
    for key, kind in fields.items():
        if key in entry and not isinstance(entry[key], kind):
            name = _TYPE_NAMES.get(kind, "a number") if isinstance(kind, type) else "a number"
            yield f"{at}.{key} is not {name}"


def _test_problems(test: object, at: str) -> Iterator[str]:
    if not isinstance(test, dict):
        yield f"{at} is not an object"
        return
    if not isinstance(test.get("nodeid"), str):
        yield f"{at} has no nodeid"
    yield from _field_problems(test, at, _TEST_FIELDS)
    for key in ("files", "violations", "other_attempts"):
        if isinstance(test.get(key), list):
            yield from _list_problems(test, key, dict, f"{at}.{key}")
    for index, item in enumerate(test.get("files") or []):
        if isinstance(item, dict) and not isinstance(item.get("size", 0), int):
            yield f"{at}.files[{index}].size is not an integer"
        if isinstance(item, dict) and not _is_hex(item.get("name_hex", "")):
            yield f"{at}.files[{index}].name_hex is not a name's bytes in hex"
    for index, attempt in enumerate(test.get("other_attempts") or []):
        yield from _test_problems(attempt, f"{at}.other_attempts[{index}]")


def _is_hex(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return True


def _list_problems(owner: Mapping[str, Any], key: str, kind: type, at: str) -> Iterator[str]:
    items = owner.get(key, [])
    if not isinstance(items, list):
        yield f"{at} is not a list"
        return
    for index, item in enumerate(items):
        if not isinstance(item, kind):
            yield f"{at}[{index}] is not {'an object' if kind is dict else 'a string'}"


def _run_problems(run: Mapping[str, Any], at: str) -> Iterator[str]:
    for key in ("split", "ci"):  # read by key when a page or a merge names a shard's part
        if run.get(key) is not None and not isinstance(run[key], dict):
            yield f"{at}.{key} is not an object or null"


def _problems(data: Mapping[str, Any]) -> Iterator[str]:
    """What makes ``data`` not a report this package can render or merge, e.g.
    ``tests[3].files[0] is not an object``."""
    if not isinstance(data.get("run", {}), dict):
        yield "run is not an object"
    else:
        yield from _run_problems(data.get("run") or {}, "run")
    for key, kind in (
        ("violations", dict),
        ("reaped", str),
        ("warnings", str),
        ("shards", dict),
        ("errors", str),
    ):
        yield from _list_problems(data, key, kind, key)
    for index, test in enumerate(data["tests"]):
        yield from _test_problems(test, f"tests[{index}]")
        first_release = "schema" not in data and isinstance(test, dict)
        if first_release and not isinstance(
            test.get("test_root") or test.get("artifacts_dir"), str
        ):
            yield f"tests[{index}] names no artifact dir (test_root, artifacts_dir)"
    for index, shard in enumerate(data.get("shards") or []):
        if not isinstance(shard.get("label"), str) or not isinstance(shard.get("report"), str):
            yield f"shards[{index}] has no label or report"
        yield from _field_problems(shard, f"shards[{index}]", _SHARD_FIELDS)
        if isinstance(shard.get("run"), dict):
            yield from _run_problems(shard["run"], f"shards[{index}].run")
        for key, kind in (("violations", dict), ("reaped", str)):
            yield from _list_problems(shard, key, kind, f"shards[{index}].{key}")


def read_report(path: Path) -> dict[str, Any]:
    """The report at ``path``, its tests' dirs placed relative to where the report is now.

    Raises :class:`ArtifactUsageError` naming the file and the remedy when it is missing,
    unreadable, not a report, or of a schema version this package cannot read.
    """
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactUsageError(
            "report", where, "does not exist", "make one with pytest --artifacts-report=PATH"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ArtifactUsageError("report", where, f"cannot be read ({error})", _MAKE_ONE) from None
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise ArtifactUsageError(
            "report", where, "is not an artifact report (no 'tests' list)", _MAKE_ONE
        )
    if data.get("schema", SCHEMA) != SCHEMA:
        raise ArtifactUsageError(
            "report", where, f"has schema {data.get('schema')!r}, not {SCHEMA!r}", _MAKE_ONE
        )
    problem = next(_problems(data), None)
    if problem is not None:
        raise ArtifactUsageError(
            "report", where, f"is not an artifact report: {problem}", _MAKE_ONE
        )
    version = schema_version(data)
    if not 1 <= version <= SCHEMA_VERSION:
        raise ArtifactUsageError(
            "report",
            where,
            f"has schema version {data.get('schema_version')!r}; this pytest-artifact-manager "
            f"reads versions 1 to {SCHEMA_VERSION}",
            "install the pytest-artifact-manager version that wrote it (or a newer one) "
            "where you render or merge",
        )
    start = Path(os.path.abspath(path)).parent
    data["tests"] = [_relocated(t, start) for t in data["tests"] if isinstance(t, dict)]
    for shard in data.get("shards") or []:
        if isinstance(shard, dict) and isinstance(shard.get("report"), str):
            shard["report"] = os.path.normpath(start / shard["report"])
    return data
