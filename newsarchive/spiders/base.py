"""What every newsarchive spider shares: turning an archived HTML response into a FetchedPage."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse

from newsarchive.archive import Archive
from newsarchive.archiver import RECORD_META
from newsarchive.items import FetchedPage
from newsarchive.recrawl import PREVIOUS_META, ArchiveSkip
from newsarchive.warc_writer import RecordLocation

logger = logging.getLogger(__name__)

SKIPPED_META = "newsarchive_skipped"

HTML_TYPES = ("text/html", "application/xhtml+xml")


def split_arg(value: str | None) -> list[str]:
    """A comma-separated spider argument as a list."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def read_urls_file(path: str) -> list[str]:
    """One URL a line; blank lines and `#` comments ignored."""
    urls = []
    for line in Path(path).expanduser().read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if line:
            urls.append(line)
    return urls


def content_type(response: Response) -> str:
    raw = response.headers.get(b"Content-Type") or b""
    return raw.decode("latin-1").split(";")[0].strip().lower()


class NewsSpider(scrapy.Spider):
    """Base spider: archived responses that hold HTML become FetchedPage items."""

    crawl_arguments: dict[str, Any]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.crawl_arguments = dict(kwargs)  # the `-a` arguments: they name a shared crawl by default
        return spider

    def valid_request(self, url: str, **kwargs: Any) -> scrapy.Request | None:
        """A request, or None (logged and counted) for a URL that cannot be fetched at all."""
        try:
            return scrapy.Request(url, **kwargs)
        except ValueError as exc:
            logger.error("Skipping malformed URL %r: %s", url, exc)
            self.crawler.stats.inc_value("newsarchive/skipped/bad_url")
            return None

    def fetched_page(self, response: Response, hints: dict[str, Any] | None = None) -> FetchedPage | None:
        """A FetchedPage for an archived HTML response; None (counted) for anything else."""
        record = response.meta.get(RECORD_META)
        if record is None:
            self.crawler.stats.inc_value("newsarchive/skipped/not_archived")
            logger.warning("Response for %s was not archived; not extracting it", response.url)
            return None
        kind = content_type(response)
        redirects = response.meta.get("redirect_urls") or []
        if not isinstance(response, TextResponse) or (kind and kind not in HTML_TYPES):
            self.crawler.stats.inc_value("newsarchive/skipped/not_html")
            logger.info("Archived %s (%s), not an HTML page", response.url, kind or "no content type")
            self._nothing_to_extract(record, [*redirects, response.url])
            return None
        if not response.body.strip():
            self.crawler.stats.inc_value("newsarchive/skipped/empty")
            logger.info("Archived %s, empty body", response.url)
            self._nothing_to_extract(record, [*redirects, response.url])
            return None
        previous = response.meta.get(PREVIOUS_META)
        return FetchedPage(
            url=redirects[0] if redirects else response.url,
            final_url=response.url,
            status=response.status,
            content_type=kind or "text/html",
            fetched_at=record.warc_date.split(".")[0].rstrip("Z") + "Z",  # the capture's own time
            html=response.text,
            record=record,
            hints=dict(hints or {}),
            supersedes=previous.content_record_id if previous is not None else None,
        )

    def _nothing_to_extract(self, record: RecordLocation, urls: list[str]) -> None:
        """A page with no text to extract is archived all the same: later runs need not fetch it again."""
        Archive.for_crawler(self.crawler).state.mark_done(record.record_id, urls)

    def parse_article(self, response: Response, **hints: Any) -> Iterator[FetchedPage]:
        page = self.fetched_page(response, hints)
        if page is not None:
            yield page

    def errback(self, failure: Any) -> Iterable[Any]:
        """Network errors and HTTP errors: logged once and counted; the crawl goes on."""
        request = getattr(failure, "request", None)
        if failure.check(ArchiveSkip):  # already archived or unchanged: counted where decided
            if request is not None:
                request.meta[SKIPPED_META] = True  # a shared crawl counts it as skipped, not failed
            return []
        reason = failure.type.__name__ if failure.type else "error"
        self.crawler.stats.inc_value(f"newsarchive/failed/{reason}")
        logger.warning("Failed %s: %s", request.url if request else "?", failure.getErrorMessage())
        return []
