"""robots.txt that answers a server error: the site is left alone for the run (RFC 9309, section 2.3.1.4)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from newsarchive.robots import unreachable
from newsarchive.siteserver import serve_folder
from tests.helpers import PAGES, CrawlResult, TrickyHandler, check_warc, read_records, scrapy_crawl


class StrugglingHandler(TrickyHandler):
    """A site whose robots.txt answers 503; it records every path it is asked for."""

    asked: list[str] = []  # noqa: RUF012 - shared by the server's handler instances, on purpose
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            self.asked.append(self.path)
        if self.path == "/robots.txt":
            self.send_body(503, b"<html><body>Service Unavailable</body></html>", {"Content-Type": "text/html"})
            return
        super().do_GET()


@pytest.fixture(scope="module")
def struggling_site() -> Iterator[str]:
    with serve_folder(PAGES, handler=StrugglingHandler) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def crawl(site: str, struggling_site: str, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    urls = [struggling_site + "/article-plain.html", struggling_site + "/broken.html", site + "/article-plain.html"]
    return scrapy_crawl("article", tmp_path_factory.mktemp("archive"), "-a", "url=" + ",".join(urls))


def test_a_site_whose_robots_txt_fails_is_not_crawled(crawl: CrawlResult) -> None:
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert [p for p in StrugglingHandler.asked if p != "/robots.txt"] == [], "a page was fetched anyway"
    stats: dict[str, Any] = crawl.stats()
    assert stats["newsarchive/robots/unreachable_sites"] == 1
    assert stats["newsarchive/robots/unreachable_skipped"] == 2
    assert stats["robotstxt/response_status_count/503"] == 1  # after Scrapy's retries
    assert "answered 503: nothing more is fetched from that site in this run" in crawl.log


def test_the_other_site_is_crawled_and_the_503_is_archived(crawl: CrawlResult, site: str,
                                                           struggling_site: str) -> None:
    records = read_records(crawl.archive)
    responses = {r.headers["WARC-Target-URI"]: r.http_status for r in records if r.type == "response"}
    assert responses[site + "/article-plain.html"].startswith("200")
    assert responses[struggling_site + "/robots.txt"].startswith("503")
    assert not any(url.startswith(struggling_site) and not url.endswith("/robots.txt") for url in responses)
    assert check_warc(crawl.archive).returncode == 0


@pytest.mark.parametrize(("status", "left_alone"), [
    (500, True), (503, True), (429, True), (599, True), (404, False), (403, False), (401, False), (410, False),
    (200, False),
])
def test_which_answers_mean_unreachable(status: int, left_alone: bool) -> None:
    assert unreachable(status) is left_alone
