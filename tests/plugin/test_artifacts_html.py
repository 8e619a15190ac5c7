"""``--artifacts-html``: the HTML report of a session, serial and under xdist, and in a browser."""

from __future__ import annotations

import json
import os
from urllib.parse import unquote_to_bytes

import pytest

from artifact_manager.cli import main

SUITE = """
    import polars as pl
    import pytest

    @pytest.mark.parametrize("n", range(3))
    def test_stage(test_artifacts_dir, n):
        df = pl.DataFrame({"gene": [f"GENE{n}-{i}" for i in range(50)], "score": range(50)})
        df.write_parquet(test_artifacts_dir / "scores.parquet")
        df.write_csv(test_artifacts_dir / "scores.tsv", separator="\\t")
        (test_artifacts_dir / "plot.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"/>'
        )
        assert n != 1, "stage 1 broke"
    """


def _run(pytester, *args):
    result = pytester.runpytest(
        *args,
        "--keep-artifacts=failed",
        "--artifacts-html=out/report.html",
        "--artifacts-report=out/report.json",
    )
    result.assert_outcomes(passed=2, failed=1)
    return pytester.path / "out" / "report.html"


def test_the_page_previews_the_failed_tests_tables_first(pytester, plugin_args, html_report):
    pytester.makepyfile(test_suite=SUITE)
    page_path = _run(pytester, *plugin_args)
    page = page_path.read_text()
    text = html_report.text(page)
    main_part = page[page.index("<main>") :]
    # The failed test first, then the passed ones in node id order.
    order = [main_part.index(f"test_suite.py::test_stage[{n}]") for n in (1, 0, 2)]
    assert order == sorted(order)
    # Its tables previewed (first 10 of 50 rows), the passed tests' files only listed.
    assert "GENE1-0" in text
    assert "GENE1-9" in text
    assert "GENE1-10" not in text
    assert "50 rows" in text
    assert "GENE0-0" not in text
    assert text.count("meta_models/predictions/scores.parquet") == 3 + 1  # 3 listed, 1 preview
    targets = html_report.assert_links_resolve(page_path)
    (root,) = (t for t in targets if t.is_dir())
    assert root.name.startswith("test_suite.test_stage-1-")
    predictions = root / "meta_models" / "predictions"
    assert sorted(set(targets) - {root}) == [
        predictions / name for name in ("plot.svg", "scores.parquet", "scores.tsv")
    ]
    tests = json.loads((pytester.path / "out" / "report.json").read_text())["tests"]
    assert all(t["duration"] > 0 for t in tests)


def test_the_cli_renders_the_same_page_from_the_json_report(pytester, plugin_args):
    pytester.makepyfile(test_suite=SUITE)
    page_path = _run(pytester, *plugin_args)
    again = page_path.with_name("again.html")
    assert main(["report", "--html", str(again), str(page_path.with_suffix(".json"))]) == 0
    assert again.read_text() == page_path.read_text()


def test_the_ini_key_is_relative_to_the_ini_file(pytester):
    pytester.makeini("[pytest]\nartifacts_html = reports/a.html\n")
    pytester.makepyfile(test_one="def test_one(test_artifacts_dir):\n    pass\n")
    sub = pytester.mkdir("sub")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(sub)
        pytester.runpytest(str(pytester.path)).assert_outcomes(passed=1)
    assert "test_one.py::test_one" in (pytester.path / "reports" / "a.html").read_text()


def test_guard_violations_are_highlighted(pytester, html_report):
    production = pytester.path / "data/ensembl/GRCh37/spliceai_eval/meta_models"
    production.mkdir(parents=True)
    pytester.makepyfile(
        test_writes=f"""
        def test_overwrites_production():
            open({str(production / "p.tsv")!r}, "w").close()
        """
    )
    pytester.runpytest_subprocess("--artifacts-html=r.html").assert_outcomes(failed=1)
    page = (pytester.path / "r.html").read_text()
    assert 'class="test failed violated"' in page
    text = html_report.text(page)
    assert "1 guard violation(s)" in text
    where = "in the call of test_writes.py::test_overwrites_production"
    assert f"{production / 'p.tsv'} ({where})" in text


def test_strict_mode_still_writes_the_page(pytester, plugin_args, tmp_path, html_report):
    # The page's dir is new and in the rootdir, an ancestor of the data root, where strict
    # mode lets nothing new be created: it is made before enforcement.
    pytester.makepyfile(test_suite=SUITE)
    basetemp = f"--basetemp={tmp_path / 'basetemp'}"
    result = pytester.runpytest_subprocess(
        "--artifacts-guard=strict", basetemp, *plugin_args, "--artifacts-html=out/report.html"
    )
    result.assert_outcomes(passed=2, failed=1)
    page_path = pytester.path / "out" / "report.html"
    assert "test_suite.py::test_stage[1]" in html_report.text(page_path.read_text())
    assert list(page_path.parent.iterdir()) == [page_path]  # no temp file left behind


# -- in a real browser --------------------------------------------------------------------


def test_a_browser_renders_the_preview_and_runs_the_filter(pytester, browser):
    pytester.makepyfile(test_suite=SUITE)
    page_path = _run(pytester, "-p", "no:xdist")
    dom = browser.dom(page_path)
    assert "GENE1-9" in dom  # the preview, as the browser parsed it
    assert "3 of 3 shown" in dom  # the filter box's script ran
    browser.screenshot(page_path)


def test_a_file_name_that_is_not_utf8_is_shown_escaped_and_linked(
    pytester, plugin_args, html_report
):
    pytester.makepyfile(
        test_bytes="""
        import os

        def test_bytes(test_artifacts_dir):
            with open(os.fsencode(test_artifacts_dir) + b"/caf\\xe9.tsv", "wb") as f:
                f.write(b"a\\n1\\n")
        """
    )
    try:
        (pytester.path / os.fsdecode(b"probe-\xe9")).touch()
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes only names that are valid UTF-8")
    result = pytester.runpytest(
        *plugin_args,
        "--keep-artifacts",
        "--artifacts-html=out/r.html",
        "--artifacts-report=out/r.json",
    )
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    page_path = pytester.path / "out" / "r.html"
    page = page_path.read_text(encoding="utf-8")
    assert "meta_models/predictions/caf\\xe9.tsv" in html_report.text(page)
    (link,) = (link for link in html_report.links(page) if link.endswith(".tsv"))
    assert link.endswith("/caf%E9.tsv")
    target = page_path.parent / os.fsdecode(unquote_to_bytes(link))
    assert target.read_bytes() == b"a\n1\n"
    # The JSON report is UTF-8 with no lone surrogates; reading it back gives the real name.
    raw = (pytester.path / "out" / "r.json").read_bytes()
    assert "\\ud" not in raw.decode("utf-8")
    (entry,) = json.loads(raw)["tests"][0]["files"]
    assert entry["name"] == "meta_models/predictions/caf\\xe9.tsv"
    assert bytes.fromhex(entry["name_hex"]) == b"meta_models/predictions/caf\xe9.tsv"
    again = page_path.with_name("again.html")
    assert main(["report", "--html", str(again), str(page_path.with_suffix(".json"))]) == 0
    assert again.read_text(encoding="utf-8") == page


def test_a_test_that_crashed_its_worker_counts_as_failed_with_its_kept_files(pytester, html_report):
    pytester.makepyfile(
        test_crash="""
        import os

        def test_z_crash(test_artifacts_dir):  # sorts last by name
            (test_artifacts_dir / "partial.tsv").write_text("a\\n1\\n")
            os._exit(3)

        def test_ok(test_artifacts_dir):
            (test_artifacts_dir / "ok.tsv").write_text("a\\n1\\n")
        """
    )
    result = pytester.runpytest(
        "-n", "2", "--keep-artifacts=failed", "--artifacts-html=out/r.html",
        "--artifacts-report=out/r.json",
    )  # fmt: skip
    result.assert_outcomes(passed=1, failed=1)
    report = json.loads((pytester.path / "out" / "r.json").read_text())
    crashed = next(t for t in report["tests"] if t["nodeid"] == "test_crash.py::test_z_crash")
    assert (crashed["outcome"], crashed["kept"], crashed["size"]) == ("crashed", True, 4)
    assert [f["name"] for f in crashed["files"]] == ["meta_models/predictions/partial.tsv"]
    page_path = pytester.path / "out" / "r.html"
    page = page_path.read_text()
    assert "<title>Test artifacts: 2 test(s), 1 failed</title>" in page
    section = page[page.index('<details class="test crashed"') :]
    assert section.index(" open>") < section.index("</summary>")  # opened, listed first
    assert page.index("test_crash.py::test_z_crash") < page.index("test_crash.py::test_ok")
    assert 'data-outcome="crashed" data-failed="1"' in section  # the "failed" filter shows it
    assert '<option value="failed">failed</option>' in page
    targets = html_report.assert_links_resolve(page_path)
    assert any(t.name == "partial.tsv" for t in targets)
