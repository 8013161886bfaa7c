"""What every newsarchive spider shares: the common options, article requests, and turning an archived
HTML response into a FetchedPage (the pipeline asks for the later pages of a multi-page article).

Options (`-a NAME=VALUE`, for every spider): `since=YYYY-MM-DD`, `lang=en,de`, `limit=N`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, Self

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Headers, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.asyncio import sleep
from twisted.python.failure import Failure

from newsarchive.archive import Archive
from newsarchive.archiver import RECORD_META
from newsarchive.article_filter import day_of
from newsarchive.discovery_config import DiscoveryConfig
from newsarchive.items import FetchedPage, PageRules
from newsarchive.links import is_media_type
from newsarchive.pagetype import html_lang, page_kind
from newsarchive.recrawl import KIND_META, PREVIOUS_META, ArchiveSkip
from newsarchive.warc_writer import RecordLocation

logger = logging.getLogger(__name__)

SKIPPED_META = "newsarchive_skipped"

HTML_TYPES = ("text/html", "application/xhtml+xml")
DISCOVERED_META = "newsarchive_discovered"  # found by the crawler, not given by the user: judged first


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


def parse_since(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"since must be a day as YYYY-MM-DD, got {value!r}") from None


def parse_limit(value: str | int | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        limit = int(value)  # type: ignore[arg-type]
    except ValueError:
        raise ValueError(f"limit must be a whole number > 0, got {value!r}") from None
    if limit <= 0:
        raise ValueError(f"limit must be a whole number > 0, got {value!r}")
    return limit


class NewsSpider(scrapy.Spider):
    """Base spider: the shared options, and archived responses that hold HTML become FetchedPage items."""

    drop_selectors: tuple[str, ...] = ()
    discovery: DiscoveryConfig
    #: Start requests that may go to the scheduler before it is counted again (see scheduler_room).
    _start_room = 0
    _start_granted = 0
    crawl_arguments: dict[str, Any]

    def __init__(self, since: str | None = None, lang: str | None = None, limit: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.since = parse_since(since)
        self.languages = frozenset(code.lower()[:2] for code in split_arg(lang))
        self.limit = parse_limit(limit)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.crawl_arguments = dict(kwargs)  # the `-a` arguments: they name a shared crawl by default
        spider.discovery = DiscoveryConfig.from_settings(crawler.settings)
        if spider.limit:  # the spider is made before settings freeze: CloseSpider stops at N articles
            crawler.settings.set("CLOSESPIDER_ITEMCOUNT", spider.limit, priority="spider")
        crawler.signals.connect(spider.headers_received, signal=signals.headers_received)
        return spider

    @property
    def rules(self) -> PageRules:
        return PageRules(drop_selectors=tuple(self.drop_selectors), since=self.since, languages=self.languages)

    # -- requests ---------------------------------------------------------------------------------

    async def scheduler_room(self) -> None:
        """Waits while the scheduler already holds NEWSARCHIVE_START_BUFFER requests.

        Scrapy keeps pulling from `start()` whenever it cannot send more requests, so without this a
        long URL list would end up in the scheduler's memory all at once. Counting the scheduler's
        requests walks every site's queue (0.2 ms with a hundred sites), so it is counted once for a
        batch of requests: when full, the spider waits until a tenth of the buffer is free.
        """
        if self._start_room > 0:
            self._start_room -= 1
            self._start_granted += 1
            self.crawler.stats.max_value("newsarchive/start/peak_pending", self._start_granted)
            return
        limit = self.crawler.settings.getint("NEWSARCHIVE_START_BUFFER", 1000)
        batch = max(1, limit // 10)
        engine = self.crawler.engine
        while engine is not None and engine.running:
            scheduler = engine.scheduler
            try:
                pending = len(scheduler)  # type: ignore[arg-type]
            except TypeError:  # a scheduler that cannot count: no bound from here
                return
            if pending <= limit - batch:
                # room for limit - pending requests: this one, and as many more before counting again
                self._start_room = limit - pending - 1
                self._start_granted = pending + 1  # an upper bound: some may have left meanwhile
                self.crawler.stats.max_value("newsarchive/start/peak_pending", self._start_granted)
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

    def article_request(self, url: str, hints: dict[str, Any] | None = None, discovered: bool = True,
                        **kwargs: Any) -> scrapy.Request | None:
        """A request for an article page; the hints (title, date, authors, source) reach the sidecar."""
        meta = {KIND_META: "article", DISCOVERED_META: discovered, **kwargs.pop("meta", {})}
        clean = {k: v for k, v in (hints or {}).items() if v}
        return self.valid_request(url, callback=self.parse_article, errback=self.errback, cb_kwargs=clean,
                                  meta=meta, **kwargs)

    def too_old(self, *iso_dates: str | None) -> bool:
        """True when `since` is set and the first known of the dates is before it (counted)."""
        day = next((d for d in map(day_of, iso_dates) if d), None)
        if self.since is None or day is None or day >= self.since:
            return False
        self.crawler.stats.inc_value("newsarchive/skipped/older_than_since")
        return True

    def headers_received(self, headers: Headers, body_length: int, request: scrapy.Request,
                         spider: scrapy.Spider) -> None:
        """Stops a discovered link as soon as its headers say video, audio, image or document."""
        if not request.meta.get(DISCOVERED_META):
            return
        kind = (headers.get(b"Content-Type") or b"").decode("latin-1")
        if is_media_type(kind):
            self.crawler.stats.inc_value("newsarchive/skipped/media_type")
            logger.info("Not fetching %s: it is %s, not a page", request.url, kind.split(";")[0])
            raise StopDownload(fail=True)

    # -- responses --------------------------------------------------------------------------------

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
        hints = dict(hints or {})
        if "language" not in hints and (lang := html_lang(response)):
            hints["language"] = lang.strip()
        previous = response.meta.get(PREVIOUS_META)
        return FetchedPage(
            url=redirects[0] if redirects else response.url,
            final_url=response.url,
            status=response.status,
            content_type=kind or "text/html",
            fetched_at=record.warc_date.split(".")[0].rstrip("Z") + "Z",  # the capture's own time
            body=response.body,
            encoding=response.encoding,
            record=record,
            hints=hints,
            rules=self.rules,
            supersedes=previous.content_record_id if previous is not None else None,
        )

    def _nothing_to_extract(self, record: RecordLocation, urls: list[str]) -> None:
        """A page with no text to extract is archived all the same: later runs need not fetch it again."""
        Archive.for_crawler(self.crawler).state.mark_done(record.record_id, urls)

    def parse_article(self, response: Response, **hints: Any) -> Iterator[Any]:
        page = self.fetched_page(response, hints)
        if page is None:
            return
        if response.meta.get(DISCOVERED_META) and isinstance(response, TextResponse):
            is_article, why = page_kind(response, listed=hints.get("source") in ("feed", "sitemap"))
            if not is_article:
                self.crawler.stats.inc_value("newsarchive/skipped/not_article")
                logger.info("Archived %s, not an article (%s)", response.url, why)
                yield from self.not_an_article(response)
                return
        yield page

    def not_an_article(self, response: Response) -> Iterable[Any]:
        """A discovered link that turned out to be an index page; the site spider follows its links."""
        return []

    async def fetch_later_page(self, url: str, pages: int) -> FetchedPage | None:
        """The next page of a multi-page article that has ``pages`` pages so far (the pipeline found
        the link while extracting): fetched through the downloader middlewares (robots.txt, recrawl
        state, retries, redirects) and archived like any page. None (logged and counted like any failed
        request) when it cannot be fetched or is not HTML, and past NEWSARCHIVE_ARTICLE_MAX_PAGES."""
        engine = self.crawler.engine
        if pages >= self.discovery.article_max_pages or engine is None:
            return None
        request = self.valid_request(url, meta={KIND_META: "article"}, dont_filter=True)
        if request is None:
            return None
        try:
            response = await engine.download_async(request)
            if not 200 <= response.status < 300:  # what HttpErrorMiddleware does for callbacks
                raise HttpError(response, "Ignoring non-200 response")
        except Exception as exc:
            failure = Failure(exc)
            failure.request = request  # type: ignore[attr-defined]
            list(self.errback(failure))
            return None
        return self.fetched_page(response)

    def errback(self, failure: Any) -> Iterable[Any]:
        """Network errors and HTTP errors: logged once and counted; the crawl goes on."""
        request = getattr(failure, "request", None)
        if failure.check(ArchiveSkip):  # already archived or unchanged: counted where decided
            if request is not None:
                request.meta[SKIPPED_META] = True  # a shared crawl counts it as skipped, not failed
            return []
        if failure.check(StopDownload):  # a media link, counted when it was stopped
            return []
        if failure.check(IgnoreRequest) and "robots.txt" in failure.getErrorMessage():
            # counted by Scrapy in robotstxt/forbidden; not a failure but the site's wish
            logger.info("Not fetching %s: %s", request.url if request else "?", failure.getErrorMessage())
            return []
        reason = failure.type.__name__ if failure.type else "error"
        self.crawler.stats.inc_value(f"newsarchive/failed/{reason}")
        logger.warning("Failed %s: %s", request.url if request else "?", failure.getErrorMessage())
        return []
