"""Recrawl policy: an article already archived is not fetched again, or is refetched conditionally.

`RecrawlMiddleware` (a downloader middleware) asks the crawl state about every article request:
never archived -> fetched; archived more recently than the recrawl age (by default: ever) -> skipped;
older -> fetched with If-None-Match/If-Modified-Since, the previous capture travelling in
`request.meta[PREVIOUS_META]` so that the archiver can write a revisit for a 304 or an identical
payload. Discovery requests (feeds, sitemaps, section pages, robots.txt) are always fetched.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from newsarchive.archive import Archive
from newsarchive.config import SettingError
from newsarchive.state import Capture
from newsarchive.warc_writer import sha1_digest

logger = logging.getLogger(__name__)

KIND_META = "newsarchive_kind"
ARTICLE = "article"
DISCOVERY = "discovery"
PREVIOUS_META = "newsarchive_previous"  # Capture | None: what the state knew when the request left
REVISIT_META = "newsarchive_revisit"  # True when the archiver wrote a revisit for the response
CONDITIONAL_HEADERS = (b"If-None-Match", b"If-Modified-Since")

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ArchiveSkip(IgnoreRequest):
    """A request not fetched, or not parsed, because the archive already has its content (not an error)."""


class AlreadyArchived(ArchiveSkip):
    """The URL's last capture is younger than the recrawl age."""


class Unchanged(ArchiveSkip):
    """A conditional refetch found the content unchanged; a revisit record was written."""


def request_kind(request: Request) -> str:
    """"article" or "discovery"; robots.txt is discovery whatever its meta says."""
    if urlparse_cached(request).path == "/robots.txt" and request.meta.get("dont_obey_robotstxt"):
        return DISCOVERY
    return str(request.meta.get(KIND_META) or ARTICLE)


def parse_age(value: str, name: str) -> timedelta | None:
    """'6h', '7d', '90m', '2w', '3600' (seconds) -> timedelta; '' or 'never' -> None (never refetch)."""
    text = str(value).strip().lower()
    if text in ("", "never", "none"):
        return None
    match = _AGE.match(text)
    if not match:
        raise SettingError(f"{name} must be an age like 6h, 7d, 90m, 2w or 'never', got {value!r}")
    return timedelta(seconds=float(match[1]) * _UNITS[match[2]])


@dataclass(frozen=True)
class RecrawlPolicy:
    """When an archived article is fetched again: never (max_age None) or once older than max_age."""

    max_age: timedelta | None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecrawlPolicy:
        spider_value = getattr(crawler.spider, "recrawl", None)
        if spider_value is not None:
            return cls(parse_age(spider_value, "-a recrawl"))
        return cls(parse_age(crawler.settings.get("NEWSARCHIVE_RECRAWL", "") or "", "NEWSARCHIVE_RECRAWL"))

    def due(self, capture: Capture, now: datetime | None = None) -> bool:
        if self.max_age is None:
            return False
        return (now or datetime.now(UTC)) - capture.fetched_at >= self.max_age


def is_unchanged(previous: Capture, response: Response) -> bool:
    """A 304 to our conditional request, or the same payload as the previous capture."""
    if response.status == 304:
        return True
    return 200 <= response.status < 300 and sha1_digest(response.body) == previous.payload_digest


def header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class RecrawlMiddleware:
    """Skips archived article URLs, or refetches them conditionally once they are due."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("NEWSARCHIVE_ENABLED", True):
            raise NotConfigured
        self.stats = crawler.stats
        self.archive = Archive.for_crawler(crawler)
        self.policy = RecrawlPolicy.from_crawler(crawler)
        if self.policy.max_age is not None:
            logger.info("Refetching archived articles older than %s", self.policy.max_age)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecrawlMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if urlparse_cached(request).scheme not in ("http", "https") or request_kind(request) != ARTICLE:
            return
        # Validators of an earlier lookup (a redirect or retry copies headers) never leak to another URL.
        if request.meta.get(PREVIOUS_META) is not None:
            for name in CONDITIONAL_HEADERS:
                request.headers.pop(name, None)
        previous = self.archive.state.archived(request.url)
        request.meta[PREVIOUS_META] = previous
        if previous is None:
            return
        if not self.policy.due(previous):
            self.stats.inc_value("newsarchive/skipped/archived")
            logger.debug("Already archived %s (%s)", request.url, previous.warc_date)
            raise AlreadyArchived(f"already archived at {previous.warc_date}")
        if previous.etag:
            request.headers[b"If-None-Match"] = previous.etag
        if previous.last_modified:
            request.headers[b"If-Modified-Since"] = previous.last_modified

    def process_response(self, request: Request, response: Response) -> Any:
        if request.meta.get(REVISIT_META):
            raise Unchanged(f"unchanged since {request.meta[PREVIOUS_META].content_date}")
        return response
