"""What every newsarchive spider shares: turning an archived HTML response into a FetchedPage."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.utils.asyncio import sleep

from newsarchive.archiver import RECORD_META
from newsarchive.items import FetchedPage

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")


def split_arg(value: str | None) -> list[str]:
    """A comma-separated spider argument as a list."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def iter_urls_file(path: str) -> Iterator[str]:
    """One URL a line; blank lines and `#` comments ignored. Read lazily: a file of millions of URLs
    costs no memory beyond the requests waiting in the scheduler."""
    with open(Path(path).expanduser(), encoding="utf-8") as fh:
        for line in fh:
            line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
            if line:
                yield line


def read_urls_file(path: str) -> list[str]:
    """All URLs of a file at once (see iter_urls_file for the lazy form)."""
    return list(iter_urls_file(path))


def content_type(response: Response) -> str:
    raw = response.headers.get(b"Content-Type") or b""
    return raw.decode("latin-1").split(";")[0].strip().lower()


class NewsSpider(scrapy.Spider):
    """Base spider: archived responses that hold HTML become FetchedPage items."""

    async def scheduler_room(self) -> None:
        """Waits while the scheduler already holds NEWSARCHIVE_START_BUFFER requests.

        Scrapy keeps pulling from `start()` whenever it cannot send more requests, so without this a
        long URL list would end up in the scheduler's memory all at once.
        """
        limit = self.crawler.settings.getint("NEWSARCHIVE_START_BUFFER", 1000)
        engine = self.crawler.engine
        while engine is not None and engine.running:
            scheduler = engine.scheduler
            try:
                pending = len(scheduler)  # type: ignore[arg-type]
            except TypeError:  # a scheduler that cannot count: no bound from here
                return
            if pending < limit:
                self.crawler.stats.max_value("newsarchive/start/peak_pending", pending + 1)
                return
            await sleep(0.05)

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
        if not isinstance(response, TextResponse) or (kind and kind not in HTML_TYPES):
            self.crawler.stats.inc_value("newsarchive/skipped/not_html")
            logger.info("Archived %s (%s), not an HTML page", response.url, kind or "no content type")
            return None
        if not response.body.strip():
            self.crawler.stats.inc_value("newsarchive/skipped/empty")
            logger.info("Archived %s, empty body", response.url)
            return None
        redirects = response.meta.get("redirect_urls") or []
        return FetchedPage(
            url=redirects[0] if redirects else response.url,
            final_url=response.url,
            status=response.status,
            content_type=kind or "text/html",
            fetched_at=record.warc_date.split(".")[0].rstrip("Z") + "Z",  # the capture's own time
            body=response.body,
            encoding=response.encoding,
            record=record,
            hints=dict(hints or {}),
        )

    def parse_article(self, response: Response, **hints: Any) -> Iterator[FetchedPage]:
        page = self.fetched_page(response, hints)
        if page is not None:
            yield page

    def errback(self, failure: Any) -> Iterable[Any]:
        """Network errors and HTTP errors: logged once and counted; the crawl goes on."""
        request = getattr(failure, "request", None)
        reason = failure.type.__name__ if failure.type else "error"
        self.crawler.stats.inc_value(f"newsarchive/failed/{reason}")
        logger.warning("Failed %s: %s", request.url if request else "?", failure.getErrorMessage())
        return []
