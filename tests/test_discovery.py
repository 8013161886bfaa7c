"""Discovery end to end: real `scrapy crawl feed|sitemap|site` against a small news site on 127.0.0.1.

The site (tests/pages/site, made by tests/make_site.py) has a home page, section pages, RSS, RDF and Atom
feeds, a sitemap index with a plain and a gzipped news sitemap, a robots.txt that disallows /private/
and names the index, a two-page article, a PDF and videos, an index page that looks like an article, an
old article, a German one, a server that answers 429 + Retry-After once, and malicious feeds and
sitemaps. Each crawl must archive exactly the expected articles, each once, and pass check_warc.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.discovery_server import NewsSiteHandler, serve_news_site
from tests.helpers import REPO, CrawlResult, check_warc, read_records, read_sidecars, scrapy_crawl
from tests.make_site import ARTICLES, CORRECTION, LONG_READ, LONG_READ_2

A, B, D, E, F, G, H, BUS_LANES = (ARTICLES[k][0] for k in "ABDEFGHI")
BUSY_I = "/busy" + BUS_LANES
PRIVATE = "/private/secret-plan-revealed.html"
MEDIA = ["/files/annual-report-2026.pdf", "/video/harbour-bridge-drone-flight.mp4",
         "/media/clip-harbour-bridge-opening"]
INDEX_PAGES = ["/", "/news/", "/culture/", "/tag/transport/", "/news/all-the-latest-stories-today.html"]
PASSWD_LINE = b"root:x:0:0"


@dataclass
class Crawl:
    result: CrawlResult
    requested: list[str]  # paths the server saw during this crawl
    base: str

    def rows(self) -> list[dict]:
        return read_sidecars(self.result.archive)

    def row_paths(self) -> list[str]:
        return sorted(row["url"].removeprefix(self.base) for row in self.rows())

    def archived_paths(self) -> set[str]:
        return {r.headers["WARC-Target-URI"].removeprefix(self.base) for r in read_records(self.result.archive)
                if r.type == "response"}


@pytest.fixture(scope="module")
def news_site() -> Iterator[str]:
    with serve_news_site() as base:
        yield base


def crawl(base: str, archive: Path, spider: str, *args: str, **settings: str) -> Crawl:
    start = len(NewsSiteHandler.seen)
    result = scrapy_crawl(spider, archive, *args, settings=settings)
    requested = [path for _, path, _ in NewsSiteHandler.seen[start:]]
    return Crawl(result, requested, base)


@pytest.fixture(scope="module")
def feed_crawl(news_site: str, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    feeds = ["/feed.rss", "/atom.xml", "/rdf.xml", "/wrong-type.txt", "/malicious/billion-laughs.xml",
             "/malicious/xxe.xml", "/malicious/malformed.xml", "/malicious/not-a-feed.html", "/"]
    return crawl(news_site, tmp_path_factory.mktemp("feed"), "feed",
                 "-a", "url=" + ",".join(news_site + f for f in feeds),
                 NEWSARCHIVE_CONTACT="https://archive.example.org/crawler")


@pytest.fixture(scope="module")
def sitemap_crawl(news_site: str, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    sitemaps = ["/", "/malicious/sitemap-bomb.xml", "/malicious/sitemap-xxe.xml", "/malicious/sitemap-huge.xml.gz",
                "/malicious/not-a-feed.html", "/malicious/sitemap-gzip-bomb.xml.gz"]
    return crawl(news_site, tmp_path_factory.mktemp("sitemap"), "sitemap",
                 "-a", "url=" + ",".join(news_site + s for s in sitemaps), "-a", "since=2026-01-01", "-a", "lang=en",
                 NEWSARCHIVE_SITEMAP_MAX_URLS="1000")


@pytest.fixture(scope="module")
def sites_dir(news_site: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sites")
    (folder / "test-herald.toml").write_text(f"""
description = "The Test Herald on 127.0.0.1"
base_url = "{news_site}"
feeds = ["/atom.xml"]
start_urls = ["/"]
max_depth = 1
deny = ["/kultur/"]
extra_domains = ["static.test-herald.invalid"]

[extract]
drop_selectors = ["p.correction"]
""")
    return folder


@pytest.fixture(scope="module")
def site_crawl(news_site: str, sites_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    return crawl(news_site, tmp_path_factory.mktemp("site"), "site", "-a", "name=test-herald",
                 NEWSARCHIVE_SITES_DIR=str(sites_dir))


def assert_polite_and_clean(result: Crawl) -> None:
    assert result.result.returncode == 0, result.result.log[-3000:]
    checked = check_warc(result.result.archive)
    assert checked.returncode == 0 and " 0 failures" in checked.stdout, checked.stdout + checked.stderr
    stats = result.result.stats()
    assert stats["robotstxt/forbidden"] >= 1
    assert not [p for p in result.requested if p.startswith("/private/")], "robots.txt disallowed path fetched"
    assert not result.archived_paths() & set(MEDIA), "media archived"
    assert not [p for p in result.requested if p in MEDIA[:2]], "media with a file extension requested"
    rows = result.rows()
    assert len({row["url"] for row in rows}) == len(rows), "an article archived twice"


# -- feed spider ------------------------------------------------------------------------------------


def test_feed_spider_archives_exactly_the_feed_articles(feed_crawl: Crawl) -> None:
    assert_polite_and_clean(feed_crawl)
    assert feed_crawl.row_paths() == sorted([A, B, D, E, F, G, BUSY_I, LONG_READ])
    archived = feed_crawl.archived_paths()
    assert not archived & {"/news/", "/tag/transport/"}
    stats = feed_crawl.result.stats()
    assert stats["newsarchive/feed/parsed"] == 5  # rss, atom, rdf, wrong type, malformed
    assert stats["newsarchive/skipped/media_url"] == 2 and stats["newsarchive/skipped/media_type"] == 1
    assert stats["newsarchive/skipped/offsite"] == 1


def test_feed_hints_fill_what_the_page_lacks(feed_crawl: Crawl) -> None:
    rows = {row["url"].removeprefix(feed_crawl.base): row for row in feed_crawl.rows()}
    long_read = rows[LONG_READ]  # the page names no author and no date; the feed item does
    assert long_read["authors"] == ["Jane Doe"]
    assert long_read["date_published"].startswith("2026-11-19")
    assert long_read["source"] == "feed"
    assert rows[A]["authors"] == ["Maria Jensen"] and rows[A]["source"] == "feed"
    assert CORRECTION in rows[A]["text"]  # no site rule here: the paragraph stays


def test_two_page_article_is_one_row_with_both_pages_archived(feed_crawl: Crawl) -> None:
    row = next(r for r in feed_crawl.rows() if r["url"].endswith(LONG_READ))
    assert "oldest of them was dug by hand" in row["text"]
    assert "On the second page of this long read" in row["text"]
    assert row["text"].index("oldest of them") < row["text"].index("second page")
    assert [part["url"].removeprefix(feed_crawl.base) for part in row["more_pages"]] == [LONG_READ_2]
    records = {r.headers["WARC-Record-ID"]: r for r in read_records(feed_crawl.result.archive)}
    part = records[row["more_pages"][0]["warc_record_id"]]
    assert part.type == "response" and part.headers["WARC-Target-URI"].endswith(LONG_READ_2)
    assert feed_crawl.result.stats()["newsarchive/multipage_articles"] == 1


def test_malicious_and_broken_feeds_are_refused_and_counted(feed_crawl: Crawl) -> None:
    stats, log = feed_crawl.result.stats(), feed_crawl.result.log
    assert stats["newsarchive/discovery/unsafe_xml"] == 2
    assert "Refusing feed " + feed_crawl.base + "/malicious/xxe.xml" in log
    assert "Refusing feed " + feed_crawl.base + "/malicious/billion-laughs.xml" in log
    assert stats["newsarchive/feed/not_a_feed"] == 1
    assert stats["newsarchive/feed/autodiscovered"] == 1  # the home page names /feed.rss
    assert "not-a-feed.html: not an RSS, RDF or Atom feed" in log
    assert stats["newsarchive/feed/malformed"] == 1 and "malformed.xml is malformed XML" in log
    assert stats["newsarchive/feed/wrong_content_type"] == 1
    assert not [p for p in feed_crawl.requested if "should-never-be-fetched" in p]
    archive_bytes = b"".join(r.raw_body for r in read_records(feed_crawl.result.archive) if r.type == "conversion")
    assert PASSWD_LINE not in archive_bytes and PASSWD_LINE.decode() not in log


def test_user_agent_names_the_contact_and_retry_after_is_honoured(feed_crawl: Crawl) -> None:
    requests = [r for r in read_records(feed_crawl.result.archive) if r.type == "request"]
    agents = {value for r in requests for name, value in r.http_headers if name.lower() == "user-agent"}
    assert agents == {"newsarchive/0.1.0 (+https://archive.example.org/crawler)"}
    warcinfo = read_records(feed_crawl.result.archive)[0]
    assert b"http-header-user-agent: newsarchive/0.1.0 (+https://archive.example.org/crawler)" in warcinfo.raw_body
    assert "NEWSARCHIVE_CONTACT is not set" not in feed_crawl.result.log
    busy = sorted(r.headers["WARC-Date"] for r in read_records(feed_crawl.result.archive)
                  if r.type == "response" and r.headers["WARC-Target-URI"].endswith(BUSY_I))
    assert len(busy) == 2  # the 429 and the page, both archived
    from datetime import datetime

    first, second = (datetime.fromisoformat(d) for d in busy)
    assert (second - first).total_seconds() >= 1.5  # Retry-After: 2, not the immediate retry
    assert feed_crawl.result.stats()["newsarchive/retry_after/honoured"] == 1


# -- sitemap spider ---------------------------------------------------------------------------------


def test_sitemap_spider_from_robots_with_since_and_lang(sitemap_crawl: Crawl) -> None:
    assert_polite_and_clean(sitemap_crawl)
    # E is older than since by its news date (never fetched); H by the date on its page (fetched,
    # dropped); G is German; the index page in disguise is fetched but is no article.
    assert sitemap_crawl.row_paths() == sorted([A, B, D, LONG_READ])
    stats = sitemap_crawl.result.stats()
    assert stats["newsarchive/sitemap/from_robots"] == 1 and stats["newsarchive/sitemap/sitemapindex"] == 1
    assert E not in sitemap_crawl.requested and stats["newsarchive/skipped/older_than_since"] == 1
    assert H in sitemap_crawl.requested and stats["newsarchive/dropped/older_than_since"] == 1
    assert stats["newsarchive/dropped/language"] == 1
    assert stats["newsarchive/skipped/not_article"] == 1
    assert not {"/", "/news/", "/culture/", "/tag/transport/"} & set(sitemap_crawl.requested)
    rows = {row["url"].removeprefix(sitemap_crawl.base): row for row in sitemap_crawl.rows()}
    assert rows[LONG_READ]["date_published"].startswith("2026-11-19")  # news:publication_date
    assert rows[LONG_READ]["source"] == "sitemap"
    assert len(rows[LONG_READ]["more_pages"]) == 1


def test_malicious_and_huge_sitemaps(sitemap_crawl: Crawl) -> None:
    stats, log = sitemap_crawl.result.stats(), sitemap_crawl.result.log
    assert stats["newsarchive/discovery/unsafe_xml"] == 2
    assert "Refusing sitemap " + sitemap_crawl.base + "/malicious/sitemap-bomb.xml" in log
    assert stats["newsarchive/sitemap/not_a_sitemap"] == 2  # the HTML page and the gzip bomb
    assert "sitemap-gzip-bomb.xml.gz: not a sitemap (larger than 67108864 bytes unpacked)" in log
    assert stats["newsarchive/sitemap/truncated"] == 1
    assert "lists more than 1000 entries (NEWSARCHIVE_SITEMAP_MAX_URLS)" in log
    assert stats["newsarchive/skipped/offsite"] == 1000  # the huge sitemap's entries are on another host
    assert stats["memusage/max"] < 400 * 1024 * 1024
    assert PASSWD_LINE.decode() not in log
    assert not [p for p in sitemap_crawl.requested if "should-never-be-fetched" in p]


# -- site spider ------------------------------------------------------------------------------------


def test_site_spider_follows_start_pages_feeds_and_rules(site_crawl: Crawl) -> None:
    assert_polite_and_clean(site_crawl)
    assert site_crawl.row_paths() == sorted([A, B, D, H, LONG_READ])  # G denied, E and F not linked
    assert G not in site_crawl.requested
    assert not [p for p in site_crawl.requested if p.startswith(("/tag/", "/author/")) or "page=" in p]
    rows = {row["url"].removeprefix(site_crawl.base): row for row in site_crawl.rows()}
    assert CORRECTION not in rows[A]["text"]  # the site's drop_selectors reached the extraction
    assert "The Harbour Bridge reopened to traffic" in rows[A]["text"]
    stats = site_crawl.result.stats()
    assert stats["newsarchive/skipped/denied"] >= 1 and stats["newsarchive/skipped/not_article"] == 1
    assert "/news/" in site_crawl.requested and "/culture/" in site_crawl.requested


def test_site_spider_again_refetches_discovery_pages_only(site_crawl: Crawl, sites_dir: Path) -> None:
    """The cron case: a second run reads the feed and index pages again, skips what it archived."""
    assert site_crawl.result.returncode == 0
    again = crawl(site_crawl.base, site_crawl.result.archive, "site", "-a", "name=test-herald",
                  NEWSARCHIVE_SITES_DIR=str(sites_dir))
    assert again.result.returncode == 0, again.result.log[-3000:]
    assert len(again.rows()) == 5  # the first run's rows, no new ones
    assert again.result.stats()["newsarchive/skipped/archived"] == 5
    assert {"/atom.xml", "/", "/news/", "/culture/", "/news/all-the-latest-stories-today.html"} <= set(again.requested)
    assert not {A, B, D, H, LONG_READ} & set(again.requested)
    assert check_warc(again.result.archive).returncode == 0


def test_site_without_name_lists_sites_and_scrapy_list(sites_dir: Path) -> None:
    listed = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "site", "-s",
                             f"NEWSARCHIVE_SITES_DIR={sites_dir}"], cwd=REPO, capture_output=True, text=True,
                            check=False)
    assert listed.returncode == 0, listed.stderr[-2000:]
    names = [line.split()[0] for line in listed.stdout.splitlines()[1:]]
    assert {"test-herald", "bbc-news", "tagesschau", "demo-gazette"} <= set(names)
    spiders = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=REPO, capture_output=True, text=True,
                            check=False)
    assert spiders.stdout.split() == ["article", "feed", "site", "sitemap"]


# -- shared options ---------------------------------------------------------------------------------


def test_limit_stops_after_n_articles_and_bad_options_fail_at_start(news_site: str, tmp_path: Path) -> None:
    urls = ",".join(news_site + p for p in (A, B, D, F, H))
    limited = crawl(news_site, tmp_path / "limit", "article", "-a", f"url={urls}", "-a", "limit=2",
                    CONCURRENT_REQUESTS_PER_DOMAIN="1")
    assert limited.result.returncode == 0, limited.result.log[-2000:]
    assert len(limited.rows()) == 2
    assert limited.result.stats()["finish_reason"] == "closespider_itemcount"
    assert check_warc(limited.result.archive).returncode == 0
    bad = scrapy_crawl("feed", tmp_path / "bad", "-a", f"url={news_site}/feed.rss", "-a", "since=last week")
    assert bad.returncode == 1 and "since must be a day as YYYY-MM-DD" in bad.log
    assert not list((tmp_path / "bad").rglob("*.warc.gz"))
