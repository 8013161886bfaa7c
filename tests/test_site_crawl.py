"""A real crawl of the two template sites: clean sidecar text from site-level learning during the
crawl, and `newsarchive reextract` rebuilding the same sidecars offline, byte for byte."""

from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsarchive.siteserver import serve_folder
from tests.helpers import (
    PAGES,
    REPO,
    CrawlResult,
    TrickyHandler,
    check_warc,
    fold,
    read_records,
    read_sidecars,
    scrapy_crawl,
)

TEMPLATES = PAGES / "templates"
SITES = {name: json.loads((TEMPLATES / name / "site.json").read_text(encoding="utf-8"))
         for name in ("divsoup", "magazine")}
EXTRA = ["/gzip/templates/magazine/article-1.html", "/raw/legacy-cp1252.html?type=text/html"]


@pytest.fixture(scope="module")
def hosts(site: str) -> Iterator[dict[str, str]]:
    """Each template is its own site: divsoup on the session server, magazine on a second one
    (both templates quote the same paragraph in two articles; on one site that would be four)."""
    with serve_folder(PAGES, handler=TrickyHandler) as other:
        yield {"divsoup": site, "magazine": other}


def template_widgets(name: str) -> list[str]:
    """The template's boilerplate strings that are on every one of its pages."""
    raw = [html.unescape((TEMPLATES / name / page).read_text(encoding="utf-8")) for page in SITES[name]["pages"]]
    return [w for w in SITES[name]["boilerplate_absent"] if all(w in page for page in raw)]


def page_url(hosts: dict[str, str], name: str, page: str) -> str:
    return f"{hosts[name]}/templates/{name}/{page}"


@pytest.fixture(scope="module")
def crawl(hosts: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    archive = tmp_path_factory.mktemp("site-crawl")
    urls = [page_url(hosts, name, page) for name, info in SITES.items() for page in sorted(info["pages"])]
    urls += [hosts["divsoup"] + path for path in EXTRA]
    result = scrapy_crawl("article", archive, "-a", "url=" + ",".join(urls))
    assert result.returncode == 0, result.log[-3000:]
    return result


def rows_by_url(archive: Path) -> dict[str, dict[str, Any]]:
    return {row["url"]: row for row in read_sidecars(archive)}


def assert_clean(text: str, paragraphs: list[str], absent: list[str]) -> None:
    folded = fold(text)
    for paragraph in paragraphs:
        assert fold(paragraph) in folded, f"missing: {paragraph[:60]!r}"
    for widget in absent:
        assert fold(widget) not in folded, f"boilerplate kept: {widget!r}"


def assert_sites_clean(rows: dict[str, dict[str, Any]], hosts: dict[str, str]) -> None:
    for name, info in SITES.items():
        for page, expected in info["pages"].items():
            assert_clean(rows[page_url(hosts, name, page)]["text"], expected["paragraphs"], info["boilerplate_absent"])
        for page in info["quoted_in"]:  # quoted by two articles: not boilerplate, kept in both
            assert fold(info["quoted"]) in fold(rows[page_url(hosts, name, page)]["text"])


def test_every_crawled_sidecar_text_is_clean(crawl: CrawlResult, hosts: dict[str, str]) -> None:
    rows = rows_by_url(crawl.archive)
    assert len(rows) == 14 + len(EXTRA)
    assert_sites_clean(rows, hosts)
    stats = crawl.stats()
    assert stats["newsarchive/articles"] == 16
    assert stats["newsarchive/boilerplate/held"] >= 14  # each site's first pages waited for its statistics
    assert stats["newsarchive/boilerplate/blocks_removed"] > 0


def test_crawl_records_match_sidecars(crawl: CrawlResult) -> None:
    assert check_warc(crawl.archive).returncode == 0, check_warc(crawl.archive).stdout
    records = read_records(crawl.archive)
    conversions = {r.headers["WARC-Record-ID"]: r for r in records if r.type == "conversion"}
    for row in read_sidecars(crawl.archive):
        assert conversions[row["conversion_record_id"]].raw_body.decode("utf-8") == row["text"]


GUARD = '''
import socket
def _refuse(*args, **kwargs):
    raise OSError("network access attempted during reextract")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
'''


def offline_command(args: list[str]) -> list[str]:
    """No network namespace (lo down, no routes) when this system allows it, else as given."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode == 0:
        return [unshare, "-n", *args]
    return args


def run_reextract(archive: Path, guard_dir: Path, *options: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(guard_dir), str(REPO)])}
    command = [sys.executable, "-m", "newsarchive.cli", "reextract", str(archive), *options]
    return subprocess.run(offline_command(command), capture_output=True, text=True, timeout=120, check=False, env=env)


def digests(archive: Path, pattern: str) -> dict[str, str]:
    return {str(p.relative_to(archive)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(archive.rglob(pattern))}


@pytest.fixture(scope="module")
def guard_dir(tmp_path_factory: pytest.TempPathFactory, site: str) -> Path:
    folder = tmp_path_factory.mktemp("guard")
    (folder / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    fetch = [sys.executable, "-c", f"import urllib.request; urllib.request.urlopen({site!r})"]
    plain = subprocess.run(fetch, capture_output=True, text=True, check=False)
    assert plain.returncode == 0, plain.stderr  # the live site answers ...
    guarded = subprocess.run(fetch, capture_output=True, text=True, check=False,
                             env={**os.environ, "PYTHONPATH": str(folder)})
    assert "network access attempted" in guarded.stderr  # ... but not through the guard
    if offline_command(fetch) != fetch:
        isolated = subprocess.run(offline_command(fetch), capture_output=True, text=True, check=False)
        assert isolated.returncode != 0 and "URLError" in isolated.stderr  # no route, not even to 127.0.0.1
    return folder


def test_reextract_offline_twice_gives_identical_sidecars(crawl: CrawlResult, hosts: dict[str, str],
                                                          guard_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(crawl.archive, archive)
    warcs = digests(archive, "*.warc.gz")
    first = run_reextract(archive, guard_dir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Re-extracted 16 rows in" in first.stdout and "0 unreadable" in first.stdout
    after_first = digests(archive, "*.jsonl")
    second = run_reextract(archive, guard_dir, "--workers", "1")  # one process or several: same bytes
    assert second.returncode == 0, second.stdout + second.stderr
    assert digests(archive, "*.jsonl") == after_first
    assert digests(archive, "*.warc.gz") == warcs  # WARCs are never touched
    assert not list(archive.rglob("*.tmp"))

    crawled, rebuilt = rows_by_url(crawl.archive), rows_by_url(archive)
    assert sorted(rebuilt) == sorted(crawled)
    assert_sites_clean(rebuilt, hosts)
    for url, row in rebuilt.items():
        assert row["extractor"]["mode"] == "reextract"
        for name in ("warc_file", "warc_offset", "warc_record_id", "fetched_at", "conversion_record_id"):
            assert row[name] == crawled[url][name]
        # The crawl held every page of these small sites until its statistics were complete, so the
        # offline rebuild finds the same text: decoding (gzip, cp1252 from <meta>) equals the crawl's.
        assert row["text"] == crawled[url]["text"], url
    assert "€2,000" in rebuilt[hosts["divsoup"] + "/raw/legacy-cp1252.html?type=text/html"]["text"]


def test_without_holding_the_first_pages_of_a_site_keep_their_widgets(hosts: dict[str, str], tmp_path: Path) -> None:
    """The order problem that NEWSARCHIVE_BOILERPLATE_HOLD solves: with it off, a site's first
    pages are written before anything repeats, so page-level extraction's leaks stay in them."""
    urls = [page_url(hosts, "magazine", page) for page in sorted(SITES["magazine"]["pages"])]
    result = scrapy_crawl("article", tmp_path, "-a", "url=" + ",".join(urls),
                          settings={"NEWSARCHIVE_BOILERPLATE_HOLD": "0"})
    assert result.returncode == 0, result.log[-3000:]
    rows = read_sidecars(tmp_path)
    assert len(rows) == 7
    widgets = template_widgets("magazine")
    leaky = [row["url"] for row in rows if any(fold(w) in fold(row["text"]) for w in widgets)]
    assert 1 <= len(leaky) < 7  # the first ones leak, the later ones are filtered
    assert "newsarchive/boilerplate/held" not in result.stats()


def test_bad_boilerplate_setting_fails_at_start_with_its_name(hosts: dict[str, str], tmp_path: Path) -> None:
    result = scrapy_crawl("article", tmp_path, "-a", "url=" + page_url(hosts, "magazine", "article-1.html"),
                          settings={"NEWSARCHIVE_BOILERPLATE_MIN_DOCS": "1"})
    assert result.returncode != 0
    assert "NEWSARCHIVE_BOILERPLATE_MIN_DOCS must be >= 2" in result.log
    assert not list(tmp_path.rglob("*.jsonl"))


def test_reextract_keeps_unreadable_rows_and_drops_rows_without_article(crawl: CrawlResult, guard_dir: Path,
                                                                          tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(crawl.archive, archive)
    sidecar = sorted(archive.rglob("*.jsonl"))[0]
    rows = [json.loads(line) for line in sidecar.read_text(encoding="utf-8").splitlines()]
    rows[0]["warc_offset"] += 1  # points into the middle of a record now
    sidecar.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    result = run_reextract(archive, guard_dir, "-s", "NEWSARCHIVE_MIN_WORDS=75")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 unreadable" in result.stdout and f"{sidecar.name}:1:" in result.stderr
    after = read_sidecars(archive)
    assert after[0] == rows[0]  # kept exactly as it was
    assert "dropped (no article text)" in result.stdout
    assert all(row["word_count"] >= 75 for row in after[1:])
    assert 1 < len(after) < len(rows)  # the short cp1252 page and others under 75 words are gone


def test_statistics_kept_in_the_crawl_state_clean_the_next_runs_first_pages(hosts: dict[str, str],
                                                                             tmp_path: Path) -> None:
    """Cron runs improve over time: a second run starts from the first run's counts, so even its
    first page, written at once (no holding), has the site's widgets removed."""
    pages = sorted(SITES["magazine"]["pages"])
    urls = [page_url(hosts, "magazine", page) for page in pages]
    first = scrapy_crawl("article", tmp_path, "-a", "url=" + ",".join(urls[:4]))
    assert first.returncode == 0, first.log[-3000:]
    second = scrapy_crawl("article", tmp_path, "-a", "url=" + ",".join(urls[4:]),
                          settings={"NEWSARCHIVE_BOILERPLATE_HOLD": "0"})
    assert second.returncode == 0, second.log[-3000:]
    rows = rows_by_url(tmp_path)
    assert len(rows) == 7
    info = SITES["magazine"]
    # Run 1 held its pages to its end; run 2 wrote each page at once, the first one included, and
    # still had the template's widgets removed: they were known from run 1.
    for url, page in zip(urls, pages, strict=True):
        assert_clean(rows[url]["text"], info["pages"][page]["paragraphs"], template_widgets("magazine"))
    for page in info["quoted_in"]:  # one quote in each run: two documents in all, kept
        assert fold(info["quoted"]) in fold(rows[page_url(hosts, "magazine", page)]["text"])
    assert second.stats()["newsarchive/boilerplate/sites_loaded"] == 1
    assert check_warc(tmp_path).returncode == 0


def test_reextract_waits_for_no_crawl(crawl: CrawlResult, guard_dir: Path, tmp_path: Path) -> None:
    """While a crawl holds the folder's lock, reextract rewrites nothing and exits 3."""
    from newsarchive.lockfile import RunLock

    archive = tmp_path / "archive"
    shutil.copytree(crawl.archive, archive)
    before = digests(archive, "*.jsonl")
    lock = RunLock(archive)
    lock.acquire()
    try:
        result = run_reextract(archive, guard_dir)
    finally:
        lock.release()
    assert result.returncode == 3, result.stdout + result.stderr
    assert "is in use by another newsarchive run" in result.stderr
    assert digests(archive, "*.jsonl") == before


def test_reextract_bad_setting_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "newsarchive.cli", "reextract", str(tmp_path),
                             "-s", "NEWSARCHIVE_MIN_WORDS=many"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "NEWSARCHIVE_MIN_WORDS must be a whole number, got 'many'" in result.stderr
    assert not list(tmp_path.iterdir())  # nothing touched, not even a lock file
