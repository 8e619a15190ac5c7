"""One suite split over CI shards: each shard's JSON report, merged into one page and report.

Each shard runs in its own copy of the project (as a CI job on its own machine would), its
report and kept dirs are moved into ``downloads/shard-N/`` (as a final job that downloads every
shard's uploaded artifact would find them), the original projects are deleted, and the real
``artifact-manager report`` command merges the reports there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from artifact_manager.cli import main

EVAL = "data/ensembl/GRCh37/spliceai_eval"

SUITE = f"""
    from pathlib import Path

    import polars as pl
    import pytest

    @pytest.mark.parametrize("n", range(4))
    def test_stage(test_artifacts_dir, n):
        df = pl.DataFrame({{"gene": [f"GENE{{n}}-{{i}}" for i in range(20)], "score": range(20)}})
        df.write_parquet(test_artifacts_dir / "scores.parquet")
        assert n not in (2, 3), f"stage {{n}} broke"

    def test_flaky(test_artifacts_dir):
        (test_artifacts_dir / "attempt.tsv").write_text("gene\\tscore\\nBRCA1\\t0.5\\n")
        assert Path("fixed.txt").exists(), "fails until fixed.txt exists (the rerun shard)"

    def test_overwrites_production():
        Path({EVAL + "/meta_models/p.tsv"!r}).write_text("clobbered")

    def test_plain():
        pass
    """


def _shard(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, n: int, *args: str):
    """Run one shard in its own project dir ``job-N``; return that dir."""
    job = pytester.path / f"job-{n}"
    (job / EVAL / "meta_models").mkdir(parents=True)
    (job / EVAL / "meta_models" / "p.tsv").write_text("production\n")
    shutil.copy(pytester.path / "test_suite.py", job)
    monkeypatch.chdir(job)
    pytester.runpytest_subprocess(
        "-p", "no:randomly", "--keep-artifacts=failed", "--artifacts-report=report.json", *args
    )
    return job


def _upload(job: Path, downloads: Path, n: int) -> None:
    """What a CI job uploads (its report and the tests trees) and the final job downloads."""
    shard = downloads / f"shard-{n}"
    shard.mkdir(parents=True)
    shutil.move(job / "report.json", shard / "report.json")
    tests_tree = shard / EVAL / "tests"
    tests_tree.parent.mkdir(parents=True)
    shutil.move(job / EVAL / "tests", tests_tree)
    shutil.rmtree(job)  # the job's machine is gone: absolute paths no longer resolve


@pytest.fixture
def downloads(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three shards (one serial, two under ``-n 2``), the third a rerun of ``test_flaky``,
    downloaded side by side into ``downloads/shard-1..3``."""
    pytester.makepyfile(test_suite=SUITE)
    jobs = [
        _shard(pytester, monkeypatch, 1, "-k", "stage and not 3 or flaky"),
        _shard(
            pytester,
            monkeypatch,
            2,
            "-n",
            "2",
            "test_suite.py::test_stage[3]",
            "test_suite.py::test_overwrites_production",
        ),
    ]
    job3 = pytester.path / "job-3"
    job3.mkdir()
    (job3 / "fixed.txt").write_text("")
    jobs.append(
        _shard(pytester, monkeypatch, 3, "-n", "2", "-k", "flaky or plain")  # the rerun shard
    )
    downloads = pytester.path / "downloads"
    for n, job in enumerate(jobs, start=1):
        _upload(job, downloads, n)
    monkeypatch.chdir(downloads)
    return downloads


def _merge(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, as the final CI job runs it."""
    return subprocess.run(
        [sys.executable, "-m", "artifact_manager", "report", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_three_shards_merge_into_one_page_whose_links_resolve(downloads, html_report):
    shards = [f"shard-{n}/report.json" for n in (1, 2, 3)]
    done = _merge(downloads, "--html", "merged/index.html", "--json", "merged/all.json", *shards)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "merged 3 shard(s) (shard-1, shard-2, shard-3): 7 test(s), 1 of them ran in more than "
        "one shard",
        "wrote merged/all.json",
        "wrote merged/index.html",
    ]
    page_path = downloads / "merged" / "index.html"
    page = page_path.read_text()
    text = html_report.text(page)
    assert "7 test(s) from 3 shard(s): 3 failed, 4 passed" in text
    for n in range(4):
        assert f"test_suite.py::test_stage[{n}]" in text
    # The failed stages' tables, kept by shard 1 and by shard 2 (under xdist), are previewed
    # from each shard's downloaded dir.
    assert "GENE3-9" in text
    assert "GENE2-9" in text
    assert "GENE0-0" not in text  # passed: listed, not kept, not previewed
    # The production write, caught in shard 2 (under xdist), is on the page with its shard.
    assert "1 guard violation(s)" in text
    assert f"{EVAL}/meta_models/p.tsv" in text
    # test_flaky ran in shard 1 (failed, kept) and again in shard 3 (passed): shown once,
    # the latest attempt winning, the other listed with a link to its kept dir.
    assert text.count("test_suite.py::test_flaky") == 1
    flaky = page[
        page.rindex("<details", 0, page.index('data-nodeid="test_suite.py::test_flaky"')) :
    ]
    flaky = flaky[: flaky.index("</details>")]
    assert 'data-outcome="passed"' in flaky
    assert 'data-shard="shard-3"' in flaky
    assert "ran 2 times" in html_report.text(flaky)
    assert "failed in shard-1" in html_report.text(flaky)
    # The shards table: one row per shard, with its selection and what it kept.
    table = page[page.index('<section class="shards">') : page.index("</section>")]
    rows = [html_report.text(row.replace("</td>", "|")) for row in table.split("<tr>")[2:]]
    assert [row.split("|")[0] for row in rows] == ["shard-1", "shard-2", "shard-3"]
    assert "2 failed, 2 passed" in rows[0]  # stage 0, 1 passed; stage 2 and flaky failed
    assert "2 (" in rows[0]  # its two kept dirs (and their size)
    assert "2 failed" in rows[1]  # stage 3 and the production write
    assert "1 (" in rows[1]
    assert "test_overwrites_production" in table  # shard 2's node ids, in the cell's title
    # Every link resolves: the kept dirs and files of shard 1 and the shard reports.
    targets = html_report.assert_links_resolve(page_path)
    kept_dirs = sorted(t.relative_to(downloads).parts[0] for t in targets if t.is_dir())
    # Shard 1: failed stage 2 and the first flaky attempt; shard 2: failed stage 3.
    assert kept_dirs == ["shard-1", "shard-1", "shard-2"]
    assert {downloads / s for s in shards} <= set(targets)
    # The merged JSON report names each run and says where each test ran.
    merged = json.loads((downloads / "merged" / "all.json").read_text())
    assert (merged["schema_version"], merged["run"]["merged"]) == (2, True)
    runs = [s["run"] for s in merged["shards"]]
    assert [s["label"] for s in merged["shards"]] == ["shard-1", "shard-2", "shard-3"]
    assert len({r["id"] for r in runs}) == 3
    assert [r["workers"] for r in runs] == [0, 2, 2]
    assert runs[1]["args"][-2:] == [
        "test_suite.py::test_stage[3]",
        "test_suite.py::test_overwrites_production",
    ]
    # The production write is blamed on its test, not on shard 2's session.
    assert [len(s["violations"]) for s in merged["shards"]] == [0, 0, 0]
    tests = {t["nodeid"]: t for t in merged["tests"]}
    overwrites = tests["test_suite.py::test_overwrites_production"]
    assert (overwrites["shard"], len(overwrites["violations"])) == ("shard-2", 1)
    flaky = tests["test_suite.py::test_flaky"]
    (earlier,) = flaky["other_attempts"]
    assert (flaky["shard"], earlier["shard"], earlier["outcome"]) == (
        "shard-3",
        "shard-1",
        "failed",
    )
    assert earlier["finished"] < flaky["finished"]
    # Dirs relative to the merged report: into each shard's downloaded tree.
    assert earlier["from_report"]["test_root"].startswith(
        f"../shard-1/{EVAL}/tests/test_suite.test_flaky"
    )
    assert Path(downloads / "merged", earlier["from_report"]["test_root"]).is_dir()
    # The page and the shard dirs moved together to a new place: still every link resolves.
    moved = downloads.parent / "elsewhere" / "run-1"
    shutil.move(downloads, moved)
    html_report.assert_links_resolve(moved / "merged" / "index.html")
    # The merged JSON report is a report too: rendered there (from another working dir), it
    # links the same files and shard reports.
    again = _merge(moved / "merged", "--html", "../again.html", "all.json")
    assert again.returncode == 0, again.stderr
    relinked = html_report.assert_links_resolve(moved / "again.html")
    assert sorted(relinked) == sorted(html_report.assert_links_resolve(moved / "merged/index.html"))


def test_the_report_records_pytest_split_options(pytester):
    pytester.makepyfile(test_suite=SUITE)
    for group in (1, 2):
        pytester.runpytest_subprocess(
            "-p",
            "no:randomly",
            "--splits",
            "2",
            "--group",
            str(group),
            f"--artifacts-report=g{group}.json",
            "-k",
            "stage",
        )
    runs = [json.loads((pytester.path / f"g{g}.json").read_text())["run"] for g in (1, 2)]
    assert [r["split"] for r in runs] == [{"splits": 2, "group": 1}, {"splits": 2, "group": 2}]
    assert sum(sum(r["outcomes"].values()) for r in runs) == 4
    assert main(["report", "--json", "all.json", "g1.json", "g2.json"]) == 0
    merged = json.loads((pytester.path / "all.json").read_text())
    assert [s["label"] for s in merged["shards"]] == ["g1", "g2"]
    assert main(["report", "--html", "all.html", "all.json"]) == 0
    page = (pytester.path / "all.html").read_text()
    assert "<td>group 1/2</td>" in page  # the shards table's selection column
    assert "<td>group 2/2</td>" in page


def test_a_browser_renders_the_merged_page_and_its_shard_filter(downloads, browser):
    shards = [f"shard-{n}/report.json" for n in (1, 2, 3)]
    assert main(["report", "--html", "index.html", *shards]) == 0
    dom = browser.dom(downloads / "index.html")
    assert "7 of 7 shown" in dom  # the filter script ran with the shard menu present
    assert '<option value="shard-2">shard-2</option>' in dom
    assert "GENE2-9" in dom  # shard 1's kept table, previewed from its downloaded dir
    browser.screenshot(downloads / "index.html")
