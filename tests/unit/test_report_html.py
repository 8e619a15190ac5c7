"""The HTML report from a JSON report's dict: previews, order, escaping, relative links."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from artifact_manager.cli import ExitCode, main
from artifact_manager.reporting import (
    ImagePreview,
    TablePreview,
    preview_file,
    previews,
    render_html,
    write_html,
)
from artifact_manager.reporting.previews import PreviewFailure

DF = pl.DataFrame({"gene": ["BRCA1", "TP53", None], "score": [0.25, 0.5, 0.75]})
NASTY = "<script>alert('x')</script>"
NASTY_FILE = "<img src=x onerror=alert(1)>"  # no "/": it is a file name


@pytest.mark.parametrize("suffix", [".tsv", ".csv", ".parquet", ".ipc", ".arrow", ".ndjson"])
def test_a_table_preview_has_schema_count_and_first_rows(tmp_path, suffix):
    path = tmp_path / f"t{suffix}"
    {
        ".tsv": lambda p: DF.write_csv(p, separator="\t"),
        ".csv": DF.write_csv,
        ".parquet": DF.write_parquet,
        ".ipc": DF.write_ipc,
        ".arrow": DF.write_ipc,
        ".ndjson": DF.write_ndjson,
    }[suffix](path)
    preview = preview_file(path, rows=2)
    assert preview == TablePreview(
        columns=(("gene", "String"), ("score", "Float64")),
        rows=(("BRCA1", "0.25"), ("TP53", "0.5")),
        row_count=3,
    )


def test_a_json_table_is_previewed_whole_only_when_small(tmp_path, monkeypatch):
    path = tmp_path / "t.json"
    DF.write_json(path)
    preview = preview_file(path)
    assert isinstance(preview, TablePreview)
    assert (preview.row_count, preview.rows[2]) == (3, (None, "0.75"))
    monkeypatch.setattr(previews, "JSON_LIMIT", 10)
    failure = preview_file(path)
    assert isinstance(failure, PreviewFailure)
    assert "over the preview limit" in failure.reason
    assert ".ndjson" in failure.reason


def test_a_large_text_table_shows_its_first_rows_without_a_count(tmp_path, monkeypatch):
    big = pl.DataFrame({"i": range(200_000), "s": ["x" * 20] * 200_000})
    big.write_csv(tmp_path / "big.csv")
    big.write_parquet(tmp_path / "big.parquet")
    counted = preview_file(tmp_path / "big.csv")
    assert isinstance(counted, TablePreview)
    assert (counted.row_count, len(counted.rows)) == (200_000, 10)
    monkeypatch.setattr(previews, "COUNT_LIMIT", 1024)
    uncounted = preview_file(tmp_path / "big.csv")
    assert isinstance(uncounted, TablePreview)
    assert (uncounted.row_count, uncounted.rows[0]) == (None, ("0", "x" * 20))
    parquet = preview_file(tmp_path / "big.parquet")  # its metadata has the count: always
    assert isinstance(parquet, TablePreview)
    assert parquet.row_count == 200_000


def test_a_table_that_only_breaks_after_its_first_rows_still_gets_a_preview(tmp_path):
    # The preview reads the first rows, not the file: a bad line far below is never parsed.
    lines = ["a,b"] + [f"{i},{i}" for i in range(5000)] + ['1,"unterminated', "x"]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    preview = preview_file(tmp_path / "t.csv", rows=3)
    assert isinstance(preview, TablePreview)
    assert preview.rows == (("0", "0"), ("1", "1"), ("2", "2"))


CHROMS = [str(c) for c in range(1, 23) for _ in range(5)] + ["X"] * 5  # 115 rows


@pytest.mark.parametrize("suffix", [".tsv", ".csv", ".ndjson"])
def test_a_column_that_changes_type_below_the_inferred_rows_still_gets_a_preview(tmp_path, suffix):
    # polars infers the schema from the first 100 rows: chrom looks like an integer there.
    df = pl.DataFrame({"chrom": CHROMS, "pos": range(len(CHROMS))})
    path = tmp_path / f"variants{suffix}"
    if suffix == ".ndjson":  # 1, 2, ... as numbers, then "X"
        rows = ({"chrom": int(c) if c.isdigit() else c, "pos": n} for n, c in enumerate(CHROMS))
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        df.write_csv(path, separator="\t" if suffix == ".tsv" else ",")
    preview = preview_file(path)
    assert isinstance(preview, TablePreview), preview
    assert preview.columns[0][0] == "chrom"
    assert preview.row_count == 115
    assert [row[0] for row in preview.rows[:2]] == ["1", "1"]


def test_a_large_table_that_changes_type_is_read_as_text(tmp_path, monkeypatch):
    # Over the count limit the schema is not inferred from the whole file: all columns text.
    pl.DataFrame({"chrom": CHROMS}).write_csv(tmp_path / "v.tsv", separator="\t")
    monkeypatch.setattr(previews, "COUNT_LIMIT", 64)
    preview = preview_file(tmp_path / "v.tsv")
    assert isinstance(preview, TablePreview), preview
    assert (preview.columns, preview.row_count) == ((("chrom", "String"),), None)


def test_a_tsv_with_a_bare_quote_is_previewed_as_written(tmp_path):
    # TSV has no quoting: 5" is text. polars' own writer quotes such fields; both read right.
    (tmp_path / "bare.tsv").write_text('name\tinches\n5" screen\t5\n')
    pl.DataFrame({"name": ['5" screen', "tab\there"], "inches": [5, 6]}).write_csv(
        tmp_path / "quoted.tsv", separator="\t"
    )
    bare = preview_file(tmp_path / "bare.tsv")
    assert isinstance(bare, TablePreview), bare
    assert (bare.rows, bare.row_count) == ((('5" screen', "5"),), 1)
    quoted = preview_file(tmp_path / "quoted.tsv")
    assert isinstance(quoted, TablePreview), quoted
    assert quoted.rows == (('5" screen', "5"), ("tab\there", "6"))


def test_a_text_table_read_as_no_rows_though_it_has_some_is_a_failure(tmp_path):
    # CSV quotes: polars 2 takes a bare quote to open a field that never ends and reads no
    # rows (polars 1.0 reads the row as written). Never an empty preview.
    (tmp_path / "bare.csv").write_text('name,inches\n5" screen,5\n')
    preview = preview_file(tmp_path / "bare.csv")
    if isinstance(preview, TablePreview):
        assert preview.rows == (('5" screen', "5"),)
    else:
        assert isinstance(preview, PreviewFailure)
        assert "no rows, though the file has lines below its header" in preview.reason
    (tmp_path / "header.csv").write_text("name,inches\n")  # a header only: 0 rows, fine
    header = preview_file(tmp_path / "header.csv")
    assert isinstance(header, TablePreview)
    assert header.rows == ()


def test_an_unreadable_table_gets_the_reason_instead_of_a_preview(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    preview = preview_file(tmp_path / "broken.parquet")
    assert isinstance(preview, PreviewFailure)
    assert preview.reason.startswith("polars could not read it: ")


def test_long_cells_are_cut_and_wide_tables_show_the_first_columns(tmp_path):
    wide = pl.DataFrame({f"c{i}": ["y" * 200] for i in range(previews.MAX_COLUMNS + 5)})
    wide.write_parquet(tmp_path / "wide.parquet")
    preview = preview_file(tmp_path / "wide.parquet")
    assert isinstance(preview, TablePreview)
    assert len(preview.columns) == previews.MAX_COLUMNS + 5
    assert len(preview.rows[0]) == len(preview.shown_columns) == previews.MAX_COLUMNS
    assert preview.rows[0][0] == "y" * (previews.CELL_CHARS - 1) + "…"


@pytest.mark.parametrize(
    ("name", "expected"), [("plot.PNG", ImagePreview()), ("a.svg", ImagePreview()), ("log", None)]
)
def test_images_are_shown_and_other_files_only_listed(tmp_path, name, expected):
    (tmp_path / name).write_bytes(b"anything")
    assert preview_file(tmp_path / name) == expected


# -- the page -----------------------------------------------------------------------------


def _entry(root: Path, name: str) -> dict[str, object]:
    data = (root / name).read_bytes()
    return {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _test(root: Path, nodeid: str, outcome: str, kept: bool, names: list[str]) -> dict:
    return {
        "nodeid": nodeid,
        "test_name": root.name,
        "artifacts_dir": str(root / "meta_models" / "predictions"),
        "test_root": str(root),
        "outcome": outcome,
        "kept": kept,
        "size": 0,
        "duration": 0.5,
        "files": [_entry(root, n) for n in names],
        "violations": [],
    }


@pytest.fixture
def report(tmp_path):
    """A report of three tests: one failed (kept, nasty names), one passed and removed, one
    passed with a guard violation; the page goes into ``tmp_path / "out"``."""
    tests = tmp_path / "data" / "tests"
    failed = tests / "t_failed"
    (failed / "sub").mkdir(parents=True)
    DF.with_columns(pl.lit(NASTY).alias(NASTY)).write_csv(
        failed / "sub" / "scores.tsv", separator="\t"
    )
    (failed / f"odd #1 %20 {NASTY_FILE}.csv").write_text("a\n1\n")
    (failed / "plot.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (failed / ".artifacts.manifest").write_text("{}")
    passed = tests / "t_passed"
    passed.mkdir()
    (passed / "gone.tsv").write_text("a\n1\n")
    violated = _test(tests / "t_violated", "test_m.py::test_violated", "passed", False, [])
    violated["violations"] = [
        {
            "test": "test_m.py::test_violated",
            "phase": "call",
            "path": "/data/meta_models/p.tsv",
            "operation": "open for writing",
            "layer": "prevented",
            "fixture": "",
        }
    ]
    data = {
        "tests": [
            _test(passed, "test_m.py::test_a_passed", "passed", False, ["gone.tsv"]),
            violated,
            _test(
                failed,
                f"test_m.py::test_z[{NASTY}]",
                "failed",
                True,
                [
                    "plot.svg",
                    "sub/scores.tsv",
                    f"odd #1 %20 {NASTY_FILE}.csv",
                    ".artifacts.manifest",
                ],
            ),
        ],
        "violations": [
            {
                "test": "test_m.py::test_a_passed",
                "phase": "session",
                "path": "/data/meta_models/q.tsv",
                "operation": "created",
                "layer": "detected",
                "fixture": "",
            }
        ],
    }
    (passed / "gone.tsv").unlink()  # removed at the test's end: listed, not linked
    return data


def test_the_page_escapes_node_ids_file_names_and_cells(report, tmp_path, html_report):
    page = render_html(report, tmp_path / "out" / "report.html")
    assert html_report.tags(page).count("script") == 1  # ours: the filter box
    assert NASTY not in page
    assert NASTY_FILE not in page
    text = html_report.text(page)
    assert f"test_m.py::test_z[{NASTY}]" in text
    assert f"odd #1 %20 {NASTY_FILE}.csv" in text
    assert text.count(NASTY) >= 3  # node id, column name and cells of the preview


def test_failed_tests_come_first_then_violations(report, tmp_path):
    page = render_html(report, tmp_path / "report.html")
    main = page[page.index("<main>") :]
    order = [main.index(f'data-nodeid="test_m.py::test_{n}') for n in ("z[", "violated", "a_")]
    assert order == sorted(order)


def test_violations_are_highlighted_per_test_and_for_the_session(report, tmp_path, html_report):
    page = render_html(report, tmp_path / "report.html")
    assert 'class="test passed violated"' in page
    assert "1 guard violation(s)" in html_report.text(page)
    assert "2 guard violation(s)" in html_report.text(page)
    assert "Session-level guard violations" in page
    text = html_report.text(page)
    assert (
        "blocked: open for writing /data/meta_models/p.tsv "
        "(in the call of test_m.py::test_violated)" in text
    )
    assert "changed: created /data/meta_models/q.tsv" in text


def test_the_preview_shows_the_kept_table(report, tmp_path, html_report):
    text = html_report.text(render_html(report, tmp_path / "report.html"))
    assert "sub/scores.tsv3 rows \N{MULTIPLICATION SIGN} 3 columns" in text
    assert "BRCA1" in text
    assert "0.75" in text


def test_kept_files_are_linked_relative_to_the_page_and_resolve(report, tmp_path, html_report):
    page_path = tmp_path / "out" / "deeper" / "report.html"
    write_html(report, page_path)
    targets = html_report.assert_links_resolve(page_path)
    failed = tmp_path / "data" / "tests" / "t_failed"
    assert set(targets) >= {
        failed,  # the dir
        failed / "plot.svg",
        failed / "sub" / "scores.tsv",
        failed / f"odd #1 %20 {NASTY_FILE}.csv",
    }
    assert all(not link.startswith("/") for link in html_report.links(page_path.read_text()))
    assert html_report.links(page_path.read_text()).count("../../data/tests/t_failed/plot.svg") == 2


def test_files_of_removed_dirs_are_listed_without_link_or_preview(report, tmp_path, html_report):
    page = render_html(report, tmp_path / "report.html")
    assert "gone.tsv" in html_report.text(page)
    assert not any("gone" in link for link in html_report.links(page))
    assert "(removed)" in html_report.text(page)


def test_a_file_changed_since_the_report_is_not_linked(report, tmp_path, html_report):
    (tmp_path / "data" / "tests" / "t_failed" / "plot.svg").write_text("<svg/> and more")
    page = render_html(report, tmp_path / "report.html")
    assert not any(link.endswith("plot.svg") for link in html_report.links(page))


def test_the_managers_own_files_are_left_out(report, tmp_path):
    assert ".artifacts.manifest" not in render_html(report, tmp_path / "report.html")


def test_an_empty_report_is_a_page_too(tmp_path, html_report):
    page = render_html({"tests": [], "violations": []}, tmp_path / "r.html")
    assert "No test made an artifact dir." in html_report.text(page)


# -- artifact-manager report --html OUT JSON_REPORT ----------------------------------------


def test_the_cli_renders_the_same_page_from_the_json(report, tmp_path, capsys):
    (tmp_path / "r.json").write_text(json.dumps(report))
    assert main(["report", "--html", str(tmp_path / "cli.html"), str(tmp_path / "r.json")]) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'cli.html'}\n"
    expected = render_html(report, tmp_path / "page.html")
    assert (tmp_path / "cli.html").read_text() == expected


MAKE_ONE = "make one with pytest --artifacts-report=PATH"
PASS_ONE = "pass a file pytest --artifacts-report=PATH (or artifact-manager report --json) wrote"


@pytest.mark.parametrize(
    ("content", "message", "remedy"),
    [
        (None, "r.json' does not exist", MAKE_ONE),
        ("{not json", "r.json' cannot be read (Expecting property name", PASS_ONE),
        ('{"tests": 3}', "r.json' is not an artifact report (no 'tests' list)", PASS_ONE),
        ('{"schema": "junit", "tests": []}', "has schema 'junit', not 'pytest-artifact", PASS_ONE),
        (
            '{"schema_version": 9, "tests": []}',
            "has schema version 9; this pytest-artifact-manager reads versions 1 to 2",
            "install the pytest-artifact-manager version that wrote it (or a newer one)",
        ),
    ],
    ids=["missing", "not-json", "not-a-report", "other-schema", "newer-schema"],
)
def test_the_cli_says_what_is_wrong_with_the_json(tmp_path, capsys, content, message, remedy):
    if content is not None:
        (tmp_path / "r.json").write_text(content)
    code = main(["report", "--html", str(tmp_path / "o.html"), str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE_ERROR
    assert message in err
    assert f"; {remedy}" in err
    assert not (tmp_path / "o.html").exists()
