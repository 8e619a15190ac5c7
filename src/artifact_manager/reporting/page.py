"""The HTML report: one self-contained page from the JSON report's dict.

Inline CSS and a few lines of inline JavaScript (the filter box, "expand all"; the address
``report.html#expanded`` opens every test); no network, no CDN. Files
are linked relative to the page, so the page and the kept dirs can be zipped or uploaded
together as one CI artifact and still work. A file is linked and previewed only if its test's
dir was kept and the file is still there with the size the report recorded; files of removed
dirs are listed without either. The manager's own files (manifest, locks: ``.artifacts.*``) are
left out. Every value from the report (node ids, paths, file names,
cell values, polars' messages) is escaped. A name that is not valid UTF-8 (a file a test
named with arbitrary bytes: Python holds its undecodable bytes as lone surrogates) is shown
with those bytes as ``\\xe9`` escapes, and linked by its real bytes (``%E9``).
"""

from __future__ import annotations

import html
import os
import shlex
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from artifact_manager.paths import is_internal_name
from artifact_manager.reporting.previews import (
    ImagePreview,
    Preview,
    PreviewFailure,
    TablePreview,
    preview_file,
)
from artifact_manager.reporting.schema import shown_text
from artifact_manager.reporting.sizes import format_size
from artifact_manager.storage.atomic import replace_text
from artifact_manager.storage.retention import KeepMarker
from artifact_manager.violations import Violation

__all__ = ["format_size", "render_html", "write_html"]

#: Rows shown in each table preview.
PREVIEW_ROWS = 10
#: Characters of the sha256 shown (the full digest is in the cell's title).
SHORT_SHA = 12
#: Outcomes shown first, open, counted as failed and under the "failed" filter: a test that
#: crashed its xdist worker (``crashed``) failed as much as one that raised.
_RANK = {"failed": 0, "error": 0, "crashed": 0}


def _e(value: object) -> str:
    return html.escape(shown_text(str(value)), quote=True)


@dataclass(frozen=True)
class _File:
    name: str
    size: int
    sha256: str
    href: str | None
    preview: Preview | None


def _href(path: Path, page_dir: Path) -> str:
    """``path`` as a URL relative to the page's dir (percent-encoded, so ``#``, ``?``, ``%``
    and spaces in names stay part of the path; a name's bytes that are not UTF-8 too)."""
    try:
        relative = os.path.relpath(path, page_dir)
    except ValueError:  # another drive (Windows): no relative form
        return path.as_uri()
    return quote(os.fsencode(Path(relative).as_posix()))


def _unchanged(path: Path, size: int) -> bool:
    """Whether ``path`` is still a regular file of the recorded size."""
    try:
        info = path.stat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size == size


def _root(test: Mapping[str, Any]) -> Path:
    return Path(str(test.get("test_root") or test.get("artifacts_dir") or "."))


def _files(test: Mapping[str, Any], page_dir: Path, rows: int, kept: bool) -> list[_File]:
    """The test's files; linked and previewed only if ``kept`` (its dir holds its files)."""
    root = _root(test)
    files = []
    for entry in test.get("files") or []:
        name = str(entry.get("name", ""))
        size = int(entry.get("size") or 0)
        path = Path(name) if Path(name).is_absolute() else root / name
        if is_internal_name(path.name):  # the manager's manifest, locks, temp files
            continue
        present = kept and _unchanged(path, size)
        href = _href(Path(os.path.abspath(path)), page_dir) if present else None
        preview = preview_file(path, rows) if present else None
        files.append(_File(name, size, str(entry.get("sha256") or ""), href, preview))
    return files


def _sorted_tests(tests: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Failed tests first, then tests with guard violations, then the rest; by node id."""

    def key(test: Mapping[str, Any]) -> tuple[int, str]:
        rank = _RANK.get(str(test.get("outcome")), 2)
        if rank == 2 and test.get("violations"):
            rank = 1
        return rank, str(test.get("nodeid", ""))

    return sorted(tests, key=key)


def _time(value: object) -> str:
    """An ISO 8601 UTC time from the report as ``2026-11-26 12:00:01 UTC``."""
    text = str(value or "")
    if len(text) < 19 or text[10] != "T":
        return text or "?"
    return f"{text[:10]} {text[11:19]} UTC"


def _violation(raw: Mapping[str, Any]) -> str:
    v = Violation.from_dict(raw)
    shard = f" in <b>{_e(raw['shard'])}</b>" if raw.get("shard") else ""
    return (
        f'<li class="violation"><b>{v.verb}</b>: {_e(v.operation)} '
        f"<code>{_e(v.path)}</code> ({_e(v.where)}){shard}</li>"
    )


def _table_preview(preview: TablePreview) -> str:
    count = "? rows (not counted)" if preview.row_count is None else f"{preview.row_count} rows"
    shown = preview.shown_columns
    more = len(preview.columns) - len(shown)
    parts = [
        f'<p class="shape">{_e(count)} \N{MULTIPLICATION SIGN} {len(preview.columns)} columns'
        f"{f' ({more} not shown below)' if more else ''}</p>",
        '<details class="schema"><summary>schema</summary><table>'
        "<tr><th>column</th><th>dtype</th></tr>",
        *(f"<tr><td>{_e(n)}</td><td>{_e(t)}</td></tr>" for n, t in preview.columns),
        "</table></details>",
        '<div class="scroll"><table class="rows"><tr>',
        *(f'<th>{_e(n)}<br><span class="dtype">{_e(t)}</span></th>' for n, t in shown),
        "</tr>",
    ]
    for row in preview.rows:
        cells = (
            '<td class="null">null</td>' if cell is None else f"<td>{_e(cell)}</td>" for cell in row
        )
        parts.append(f"<tr>{''.join(cells)}</tr>")
    parts.append("</table></div>")
    return "".join(parts)


def _preview(file: _File) -> str:
    preview = file.preview
    if preview is None or file.href is None:
        return ""
    if isinstance(preview, ImagePreview):
        body = f'<img src="{_e(file.href)}" alt="{_e(file.name)}" loading="lazy">'
    elif isinstance(preview, PreviewFailure):
        body = f'<p class="failure">no preview: {_e(preview.reason)}</p>'
    else:
        body = _table_preview(preview)
    return f'<div class="preview"><h4>{_e(file.name)}</h4>{body}</div>'


def _file_row(file: _File) -> str:
    name = (
        f'<a href="{_e(file.href)}">{_e(file.name)}</a>'
        if file.href is not None
        else f'<span class="gone" title="not kept">{_e(file.name)}</span>'
    )
    return (
        f"<tr><td>{name}</td><td class=num>{_e(format_size(file.size))}</td>"
        f'<td><code title="{_e(file.sha256)}">{_e(file.sha256[:SHORT_SHA])}</code></td></tr>'
    )


def _summary(test: Mapping[str, Any], violations: int) -> str:
    outcome = _e(test.get("outcome") or "unknown")
    parts = [f'<summary><span class="badge {outcome}">{outcome}</span>']
    parts.append(f"<code>{_e(test.get('nodeid') or '')}</code>")
    if test.get("duration") is not None:
        parts.append(f'<span class="duration">{float(test["duration"]):.2f} s</span>')
    if violations:
        parts.append(f'<span class="badge violated">{violations} guard violation(s)</span>')
    if test.get("kept"):
        parts.append('<span class="kept">kept</span>')
    if test.get("shard"):
        parts.append(f'<span class="shard">{_e(test["shard"])}</span>')
    again = len(test.get("other_attempts") or [])
    if again:
        parts.append(f'<span class="again">ran {again + 1} times</span>')
    return " ".join(parts) + "</summary>"


@dataclass(frozen=True)
class _Holders:
    """Which shard's attempt a kept dir holds. In a merge, several attempts can name one dir
    (shards rerun on one machine; GitLab extracting every shard's artifacts into one project
    dir): its keep marker says which run kept what is there now."""

    #: Shard label by run id; empty for a report of one run.
    labels: Mapping[str, str]

    @classmethod
    def of(cls, report: Mapping[str, Any]) -> _Holders:
        shards = report.get("shards") or []
        runs = [((s.get("run") or {}).get("id"), s.get("label")) for s in shards]
        return cls({str(run_id): str(label) for run_id, label in runs if run_id and label})

    def other(self, test: Mapping[str, Any]) -> str | None:
        """The shard whose attempt ``test``'s kept dir holds, if not ``test``'s own."""
        if not self.labels or not test.get("shard") or not test.get("kept"):
            return None
        marker = KeepMarker.read(_root(test))
        holder = self.labels.get(marker.session_id) if marker is not None else None
        return holder if holder != test["shard"] else None


def _where(test: Mapping[str, Any], page_dir: Path, holder: str | None) -> str:
    """A test's dir: linked if it was kept and is there, else named with what became of it."""
    kept = bool(test.get("kept"))
    root = _root(test)
    if holder is not None:
        return f"<code>{_e(root)}</code> (kept; it holds the attempt of {_e(holder)} now)"
    if kept and root.is_dir():
        return f'<a href="{_e(_href(Path(os.path.abspath(root)), page_dir))}">{_e(root)}</a>'
    return f"<code>{_e(root)}</code> ({'kept' if kept else 'removed'})"


def _other_attempts(test: Mapping[str, Any], page_dir: Path, holders: _Holders) -> str:
    """The attempts a later one in another shard replaced (a rerun shard), latest first."""
    items = []
    for attempt in test.get("other_attempts") or []:
        outcome = _e(attempt.get("outcome") or "unknown")
        found = len(attempt.get("violations") or [])
        items.append(
            f'<li><span class="badge {outcome}">{outcome}</span> in '
            f"<b>{_e(attempt.get('shard') or '?')}</b>, finished "
            f"{_e(_time(attempt.get('finished')))}, "
            f"dir: {_where(attempt, page_dir, holders.other(attempt))}"
            + (f' <span class="violated">{found} guard violation(s)</span>' if found else "")
            + "</li>"
        )
    return (
        '<div class="attempts"><p>Also ran in another shard (the latest attempt is shown '
        f"above):</p><ul>{''.join(items)}</ul></div>"
    )


def _test(test: Mapping[str, Any], page_dir: Path, rows: int, holders: _Holders) -> str:
    outcome = str(test.get("outcome") or "unknown")
    violations = list(test.get("violations") or [])
    holder = holders.other(test)
    files = _files(test, page_dir, rows, kept=bool(test.get("kept")) and holder is None)
    opened = " open" if outcome in _RANK or violations else ""
    parts = [
        f'<details class="test {_e(outcome)}{" violated" if violations else ""}" '
        f'data-outcome="{_e(outcome)}" data-failed="{int(outcome in _RANK)}" '
        f'data-nodeid="{_e(test.get("nodeid") or "")}" '
        f'data-shard="{_e(test.get("shard") or "")}" '
        f'data-violations="{len(violations)}"{opened}>',
        _summary(test, len(violations)),
        f'<div class="body"><p class="dir">dir: {_where(test, page_dir, holder)}</p>',
    ]
    if test.get("other_attempts"):
        parts.append(_other_attempts(test, page_dir, holders))
    if violations:
        parts.append('<ul class="violations">' + "".join(map(_violation, violations)) + "</ul>")
    if files:
        parts.append('<table class="files"><tr><th>file</th><th>size</th><th>sha256</th></tr>')
        parts.extend(map(_file_row, files))
        parts.append("</table>")
        parts.extend(_preview(f) for f in files)
    else:
        parts.append('<p class="none">no files</p>')
    parts.append("</div></details>")
    return "\n".join(parts)


def _header(
    tests: Sequence[Mapping[str, Any]], violations: int, shards: Sequence[Mapping[str, Any]]
) -> str:
    counts: dict[str, int] = {}
    for test in tests:
        outcome = str(test.get("outcome"))
        counts[outcome] = counts.get(outcome, 0) + 1
    outcomes = sorted(counts, key=lambda o: (_RANK.get(o, 2), o))
    totals = ", ".join(f"{counts[o]} {o}" for o in outcomes) or "none"
    kept = sum(1 for t in tests if t.get("kept"))
    menu = list(outcomes)
    if "failed" not in menu and any(o in _RANK for o in menu):  # "failed" lists them all
        menu.insert(0, "failed")
    options = "".join(f'<option value="{_e(o)}">{_e(o)}</option>' for o in menu)
    if violations:
        options += '<option value="violations">with guard violations</option>'
    flagged = ' class="violated"' if violations else ""
    where = f" from {len(shards)} shard(s)" if shards else ""
    by_shard = ""
    if shards:
        labels = "".join(
            f'<option value="{_e(s["label"])}">{_e(s["label"])}</option>' for s in shards
        )
        by_shard = (
            '<select id="shard" aria-label="shard">'
            f'<option value="">all shards</option>{labels}</select> '
        )
    return (
        '<header><h1>Test artifacts</h1><p class="totals">'
        f"{len(tests)} test(s){where}: {_e(totals)} · {kept} kept dir(s) · "
        f"<span{flagged}>{violations} guard violation(s)</span></p>"
        '<div class="filters"><input id="filter" type="search" placeholder="filter by node id" '
        'aria-label="filter by node id"> <select id="outcome" aria-label="outcome">'
        f'<option value="">all outcomes</option>{options}</select> {by_shard}'
        '<button id="expand" type="button">expand all</button> '
        '<span id="shown"></span></div></header>'
    )


def _counts(outcomes: Mapping[str, Any]) -> str:
    ordered = sorted(outcomes, key=lambda o: (_RANK.get(o, 2), o))
    return ", ".join(f"{outcomes[o]} {o}" for o in ordered) or "none"


def _split(run: Mapping[str, Any]) -> str | None:
    """``group 2/4`` for a run's split options or CI node index, if it has any."""
    split = run.get("split") or {}
    if "group" in split and "splits" in split:
        return f"group {split['group']}/{split['splits']}"
    if "shard_id" in split and "num_shards" in split:
        return f"shard {split['shard_id']}/{split['num_shards']}"
    ci = run.get("ci") or {}
    if "CI_NODE_INDEX" in ci and "CI_NODE_TOTAL" in ci:
        return f"node {ci['CI_NODE_INDEX']}/{ci['CI_NODE_TOTAL']}"
    return None


def _shard_row(shard: Mapping[str, Any], page_dir: Path) -> str:
    run = shard.get("run") or {}
    selection = _split(run)
    if selection is None:
        args = shlex.join(str(a) for a in run.get("args") or [])
        shown = args if len(args) <= 60 else args[:59] + "\N{HORIZONTAL ELLIPSIS}"
        selection = f'<code title="{_e(args)}">{_e(shown)}</code>' if args else "(whole suite)"
    else:
        selection = _e(selection)
    report = Path(str(shard.get("report") or ""))
    if report.is_file():
        href = _href(Path(os.path.abspath(report)), page_dir)
        link = f'<a href="{_e(href)}">{_e(unquote(href, errors="surrogateescape"))}</a>'
    else:
        link = f"<code>{_e(report)}</code>"
    reaped = len(shard.get("reaped") or [])
    violations = len(shard.get("violations") or [])
    cells = (
        f"<b>{_e(shard.get('label'))}</b>",
        _e(run.get("host") or "?"),
        _e(_time(run.get("started"))),
        selection,
        _e(f"{run.get('python') or '?'} / {run.get('pytest') or '?'} / {run.get('plugin') or '?'}"),
        _e(_counts(shard.get("outcomes") or {})),
        f"{int(shard.get('kept') or 0)} ({_e(format_size(int(shard.get('kept_size') or 0)))})",
        str(reaped),
        f'<span class="violated">{violations}</span>' if violations else "0",
        link,
    )
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _shards(report: Mapping[str, Any], page_dir: Path) -> str:
    """The merged runs, with what each kept and reaped; and the merge's warnings."""
    head = (
        "shard",
        "host",
        "started",
        "selection",
        "Python / pytest / plugin",
        "tests",
        "kept dirs",
        "reaped",
        "session violations",
        "report",
    )
    parts = [
        '<section class="shards"><h2>Shards</h2><table><tr>',
        *(f"<th>{h}</th>" for h in head),
        "</tr>",
        *(_shard_row(s, page_dir) for s in report.get("shards") or []),
        "</table>",
    ]
    warnings = report.get("warnings") or []
    if warnings:
        parts.append('<ul class="warnings">')
        parts.extend(f"<li>{_e(w)}</li>" for w in warnings)
        parts.append("</ul>")
    parts.append("</section>")
    return "".join(parts)


def render_html(report: Mapping[str, Any], page: Path, *, rows: int = PREVIEW_ROWS) -> str:
    """The page for ``report`` (the JSON report's dict), to be written at ``page``.

    Reads only the kept files it previews (their first ``rows`` rows), never a whole table.
    """
    page_dir = Path(os.path.abspath(page)).parent
    tests = _sorted_tests(list(report.get("tests") or []))
    session_violations = list(report.get("violations") or [])
    violations = len(session_violations) + sum(len(t.get("violations") or []) for t in tests)
    failed = sum(1 for t in tests if t.get("outcome") in _RANK)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Test artifacts: {len(tests)} test(s), {failed} failed</title>",
        f"<style>{_CSS}</style></head><body>",
        _header(tests, violations, list(report.get("shards") or [])),
    ]
    if report.get("shards"):
        parts.append(_shards(report, page_dir))
    if session_violations:
        parts.append(
            '<section class="session violated"><h2>Session-level guard violations</h2>'
            "<p>Changes no single test could be blamed for.</p>"
            f'<ul class="violations">{"".join(map(_violation, session_violations))}</ul>'
            "</section>"
        )
    parts.append("<main>")
    holders = _Holders.of(report)
    parts.extend(_test(t, page_dir, rows, holders) for t in tests)
    if not tests:
        parts.append('<p class="none">No test made an artifact dir.</p>')
    parts.append(f"</main><script>{_JS}</script></body></html>\n")
    return "\n".join(parts)


def write_html(report: Mapping[str, Any], path: Path) -> None:
    """Render ``report`` and write it to ``path``: atomically (a temp file beside it, then a
    rename), or in place where no new file may be made beside it (strict mode made the file
    before enforcement)."""
    replace_text(path, render_html(report, path))


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;
background:#f6f8fa}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #d0d7de;padding:8px 16px;
z-index:1}
h1{font-size:20px;margin:4px 0}
main,section{padding:8px 16px}
.filters input{width:320px;padding:4px}
.filters select,.filters button{padding:4px}
#shown{color:#57606a;margin-left:8px}
details.test{background:#fff;border:1px solid #d0d7de;border-left:6px solid #8c959f;
border-radius:6px;margin:8px 0}
details.test.failed,details.test.error,details.test.crashed{border-left-color:#cf222e}
details.test.passed{border-left-color:#1a7f37}
details.test.skipped{border-left-color:#bf8700}
details.test.violated{outline:2px solid #cf222e}
summary{cursor:pointer;padding:6px 10px}
.body{padding:0 12px 10px}
.badge{display:inline-block;border-radius:10px;padding:0 8px;color:#fff;background:#8c959f;
font-size:12px;font-weight:600}
.badge.failed,.badge.error,.badge.crashed,.badge.violated{background:#cf222e}
.badge.passed{background:#1a7f37}
.badge.skipped{background:#bf8700}
.duration,.kept,.dir,.shape,.none{color:#57606a}
.kept{font-size:12px;border:1px solid #8c959f;border-radius:10px;padding:0 6px}
.violated{color:#cf222e;font-weight:600}
section.violated,ul.violations{background:#ffebe9;border:1px solid #ff8182;border-radius:6px}
ul.violations{padding:6px 6px 6px 28px}
li.violation{color:#82071e}
table{border-collapse:collapse;margin:4px 0}
th,td{border:1px solid #d0d7de;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.num{text-align:right}
td.null{color:#8c959f;font-style:italic}
.dtype{color:#57606a;font-weight:400;font-size:11px}
.gone{color:#57606a;text-decoration:line-through}
.preview{margin:10px 0;padding:6px 10px;border:1px solid #d0d7de;border-radius:6px}
.preview h4{margin:2px 0;font-family:ui-monospace,monospace}
.preview img{max-width:100%;max-height:480px}
.failure{color:#9a6700}
.shard,.again{font-size:12px;border-radius:10px;padding:0 6px;background:#ddf4ff;color:#0550ae}
.again{background:#fff8c5;color:#7d4e00}
.attempts{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:2px 10px;
margin:6px 0}
.attempts ul{margin:4px 0;padding-left:20px}
section.shards table{background:#fff}
ul.warnings{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 6px 6px 28px}
.scroll{overflow-x:auto}
table.rows td{font-family:ui-monospace,monospace;font-size:12px;white-space:pre}
"""

_JS = """
(function(){
var q=document.getElementById("filter"),o=document.getElementById("outcome"),
s=document.getElementById("shard"),
n=document.getElementById("shown"),tests=document.querySelectorAll("details.test");
function apply(){var t=q.value.toLowerCase(),w=o.value,h=s?s.value:"",c=0;
for(var i=0;i<tests.length;i++){var e=tests[i],d=e.dataset;
var ok=(!t||d.nodeid.toLowerCase().indexOf(t)>=0)&&
(!w||(w==="violations"?d.violations!=="0":w==="failed"?d.failed==="1":d.outcome===w))&&
(!h||d.shard===h);
e.hidden=!ok;if(ok)c++;}
n.textContent=c+" of "+tests.length+" shown";}
q.addEventListener("input",apply);o.addEventListener("change",apply);
if(s)s.addEventListener("change",apply);apply();
var b=document.getElementById("expand");
function expand(open){for(var i=0;i<tests.length;i++)tests[i].open=open;
b.textContent=open?"collapse all":"expand all";}
b.addEventListener("click",function(){expand(b.textContent==="expand all");});
if(location.hash==="#expanded")expand(true);
})();
"""
