"""Scrapy extension: every response, as it came from the server, into the WARC with its request.

Listens to `response_downloaded`, which fires before the downloader middlewares run, so the body is
still as the server sent it (gzip/br not yet decoded) and redirects and error pages are seen too.
The record's location goes forward in `request.meta[RECORD_META]` for the pipeline's sidecar.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from urllib.parse import urldefrag

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached

from newsarchive.archive import Archive
from newsarchive.http_handler import REASON_META
from newsarchive.recrawl import ARTICLE, PREVIOUS_META, REVISIT_META, header, is_unchanged, request_kind
from newsarchive.state import Capture
from newsarchive.warc_writer import HTTPExchange, RecordLocation

logger = logging.getLogger(__name__)

RECORD_META = "newsarchive_record"


def _header_pairs(headers: object) -> list[tuple[str, str]]:
    pairs = []
    for name, values in headers.items():  # type: ignore[attr-defined]
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values:
            pairs.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return pairs


def exchange_from_scrapy(request: Request, response: Response) -> HTTPExchange:
    """The exchange as it went over the wire, from what Scrapy kept of it."""
    url = urldefrag(response.url)[0]
    parsed = urlparse_cached(request)
    target = parsed.path or "/"
    if parsed.query:
        target += "?" + parsed.query
    request_headers = [("Host", parsed.netloc), *_header_pairs(request.headers)]
    if request.body and not request.headers.get("Content-Length"):
        request_headers.append(("Content-Length", str(len(request.body))))
    reason = request.meta.get(REASON_META)
    if reason is None:
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
    latency = float(request.meta.get("download_latency") or 0.0)
    return HTTPExchange(
        url=url,
        method=request.method,
        request_target=target,
        request_headers=request_headers,
        request_body=request.body or b"",
        protocol=response.protocol or "HTTP/1.1",
        status=response.status,
        reason=reason,
        response_headers=_header_pairs(response.headers),
        body=response.body,
        fetched_at=datetime.now(UTC) - timedelta(seconds=latency),
        ip_address=str(response.ip_address) if response.ip_address else None,
        truncated="disconnect" if "dataloss" in response.flags else None,
    )


class WARCArchiver:
    """Writes request and response records for every HTTP(S) response the crawler downloads."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("NEWSARCHIVE_ENABLED", True):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.archive = Archive.for_crawler(crawler)
        self.stopping = False
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WARCArchiver:
        return cls(crawler)

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        if urlparse_cached(request).scheme not in ("http", "https"):
            return
        exchange = exchange_from_scrapy(request, response)
        previous: Capture | None = request.meta.get(PREVIOUS_META)
        unchanged = previous is not None and is_unchanged(previous, response)
        try:
            if previous is not None and unchanged:
                location, _ = self.archive.warc.write_revisit(
                    exchange, previous.payload_digest or "", previous.content_url, previous.content_date,
                    previous.content_record_id,
                )
            else:
                location, _ = self.archive.warc.write_exchange(exchange)
        except OSError as exc:
            # A full disk or a lost mount: stop cleanly, keeping what is already on disk intact.
            self.stats.inc_value("newsarchive/warc/write_failed")
            if not self.stopping:
                self.stopping = True
                logger.critical("Cannot write the WARC file (%s); stopping the crawl", exc)
                assert self.crawler.engine is not None
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="newsarchive_write_failed"))
            return
        request.meta[RECORD_META] = location
        self.stats.inc_value("newsarchive/warc/responses")
        self.stats.inc_value("newsarchive/warc/bytes", location.length)
        if exchange.truncated:
            self.stats.inc_value("newsarchive/warc/truncated")
        if request_kind(request) == ARTICLE:
            self._remember(request, response, location, previous, unchanged)

    def _remember(self, request: Request, response: Response, location: RecordLocation,
                  previous: Capture | None, unchanged: bool) -> None:
        """Tells the crawl state about an article capture; a revisit is complete as soon as it is written."""
        capture = Capture(
            url=urldefrag(response.url)[0], record_id=location.record_id, warc_file=location.warc_file,
            offset=location.offset, length=location.length, warc_date=location.warc_date,
            status=response.status, payload_digest=location.payload_digest,
            etag=header(response, b"ETag") or (previous.etag if unchanged and previous else None),
            last_modified=header(response, b"Last-Modified")
            or (previous.last_modified if unchanged and previous else None),
        )
        if unchanged and previous is not None:
            capture = replace(capture, original_record_id=previous.content_record_id,
                              original_url=previous.content_url, original_date=previous.content_date)
        self.archive.state.record_capture(capture)
        if unchanged:
            request.meta[REVISIT_META] = True
            self.archive.state.mark_done(capture.record_id, [*request.meta.get("redirect_urls", ()), request.url])
            self.stats.inc_value("newsarchive/warc/revisits")
            self.stats.inc_value("newsarchive/recrawl/unchanged")
            logger.info("Unchanged since %s: %s (revisit record)", capture.content_date, response.url)
        elif 200 <= response.status < 300:
            self.stats.inc_value("newsarchive/recrawl/changed" if previous else "newsarchive/recrawl/new")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.archive.close()
        for path in self.archive.warc.closed_files:
            logger.info("WARC file written: %s", path)
