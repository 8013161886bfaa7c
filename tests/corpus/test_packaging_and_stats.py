"""`newsarchive index`, `newsarchive wacz` (checked with `wacz validate`) and `newsarchive stats`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.corpus.support import ALPHA, BETA, CorpusArchive, run_cli, site
from tests.helpers import read_records, read_sidecars


def test_index_lists_every_capture_with_its_location(corpus: CorpusArchive, tmp_path: Path) -> None:
    out = tmp_path / "archive.cdxj"
    result = run_cli("index", corpus.path, "-o", out)
    assert result.returncode == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines)
    entries = [json.loads(line.split(" ", 2)[2]) for line in lines]
    responses = [r for r in read_records(corpus.path) if r.type == "response"]
    assert len(entries) == len(responses)
    located = {(e["url"], e["filename"], int(e["offset"])) for e in entries}
    for row in read_sidecars(corpus.path):
        assert (row["final_url"], row["warc_file"], row["warc_offset"]) in located
    assert f"Indexed 2 WARC files: {len(lines)} lines in {out}." in result.stdout


def test_wacz_packs_the_archive_with_article_pages_and_validates(corpus: CorpusArchive, tmp_path: Path) -> None:
    out = tmp_path / "news.wacz"
    result = run_cli("wacz", corpus.path, "-o", out)
    assert result.returncode == 0, result.stderr
    assert f"Wrote {out}: 2 WARC files, 7 pages." in result.stdout
    validate = subprocess.run([str(Path(sys.executable).parent / "wacz"), "validate", "-f", str(out)],
                              check=False, capture_output=True, text=True, timeout=120)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "Validation succeeded" in validate.stdout
    with zipfile.ZipFile(out) as wacz:
        names = set(wacz.namelist())
        pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").decode().splitlines()]
        package = json.loads(wacz.read("datapackage.json"))
    assert {"datapackage.json", "indexes/index.cdx.gz", "indexes/index.idx"} <= names
    warcs = {f"archive/{p.name}" for p in corpus.path.rglob("*.warc.gz")}
    assert {n for n in names if n.startswith("archive/")} == warcs
    assert pages[0]["format"] == "json-pages-1.0"
    titles = {page["url"]: page["title"] for page in pages[1:]}
    assert titles[corpus.url(ALPHA[0])] == "Storm Closes Northern Ports"
    assert titles[corpus.url(BETA[2])] == "Stadtbibliothek öffnet länger"
    assert len(pages) == 1 + 7 and all(page["ts"] for page in pages[1:])
    assert {r["path"] for r in package["resources"]} >= {"pages/pages.jsonl", "indexes/index.cdx.gz"}


def table_rows(out: str) -> dict[str, str]:
    """Two-column rows of rich's tables, first cell -> second cell."""
    return {line.split("│")[1].strip(): line.split("│")[2].strip() for line in out.splitlines()
            if line.count("│") == 3}


def test_stats_table_and_html_report(corpus: CorpusArchive, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    result = run_cli("stats", corpus.path, "--html", report)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    words = sum(int(r["word_count"]) for r in latest(corpus))  # type: ignore[call-overload]
    assert f"6 articles, {words} words, 2 sites" in out
    for line in out.splitlines():
        if site(corpus.alpha) in line:
            assert line.split("│")[2].strip() == "3"
    rows = table_rows(out)
    assert rows["2026-11-20"] == "2" and rows["2026-11-10"] == "1" and rows["2026-11-15"] == "1"
    # the two runs' stats files: what they fetched, and the 404 of the first run
    runs = [json.loads(p.read_text()) for p in sorted(corpus.path.rglob("*.stats.json"))]
    assert len(runs) == 2
    assert rows["fetched"] == str(sum(run["counts"]["fetched"] for run in runs))
    assert rows["changed"] == "1" and rows["articles"] == "7"
    assert rows["failed/HttpError"] == "1"
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 4
    assert "<script" not in html and "src=" not in html and "<link" not in html
    assert f"{site(corpus.alpha)}: 3</title>" in html and "2026-11-20: 2</title>" in html
    assert "failed/HttpError: 1</title>" in html


def test_stats_without_and_with_other_stats_files(corpus: CorpusArchive, tmp_path: Path) -> None:
    archive = Path(shutil.copytree(corpus.path, tmp_path / "archive"))
    for path in archive.rglob("*.stats.json"):
        path.unlink()
    result = run_cli("stats", archive)
    assert result.returncode == 0, result.stderr
    assert "Failures: no crawl stats files (*.stats.json) in this archive." in result.stdout
    day = next(p for p in archive.iterdir() if p.is_dir())
    (day / "crawl-1.stats.json").write_text(json.dumps({"newsarchive/failed/HttpError": 3,
                                                        "newsarchive/skipped/archived": 40}), encoding="utf-8")
    (day / "crawl-2.stats.json").write_text(json.dumps({"stats": {"newsarchive/failed/HttpError": 2,
                                                                  "newsarchive/extract_failed": 1}}))
    (day / "broken.stats.json").write_text("{not json")
    result = run_cli("stats", archive)
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert rows["failed/HttpError"] == "5" and rows["extract_failed"] == "1"
    assert "skipped/archived" not in rows  # articles not fetched again are no failure


def latest(corpus: CorpusArchive) -> list[dict[str, object]]:
    best: dict[str, dict[str, object]] = {}
    for row in read_sidecars(corpus.path):
        if row["url"] not in best or row["fetched_at"] >= best[row["url"]]["fetched_at"]:  # type: ignore[operator]
            best[row["url"]] = row
    return list(best.values())
