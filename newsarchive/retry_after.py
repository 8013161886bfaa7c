"""Downloader middleware: honour `Retry-After` on 429 and 503 for the whole site, not just the URL.

Scrapy 2.19's RetryMiddleware retries 429/503 at once, ignoring Retry-After. Here a 429/503 that
carries Retry-After (seconds or an HTTP date) pauses every request to that download slot (host) until
the time has passed; RetryMiddleware then retries the request as usual, after the pause. A wait longer
than NEWSARCHIVE_RETRY_AFTER_MAX is not honoured by waiting: the request is given up (counted).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from datetime import UTC, datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from newsarchive.discovery_config import DiscoveryConfig

logger = logging.getLogger(__name__)

RETRY_AFTER_CODES = (429, 503)
SLOT_META = "download_slot"


def retry_after_seconds(value: str, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date); None if unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.max_wait = DiscoveryConfig.from_settings(crawler.settings).retry_after_max
        self.paused_until: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    @staticmethod
    def _slot(request: Request) -> str:
        return str(request.meta.get(SLOT_META) or urlparse_cached(request).hostname or "")

    async def process_request(self, request: Request) -> None:
        wait = self.paused_until.get(self._slot(request), 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in RETRY_AFTER_CODES:
            return response
        raw = response.headers.get(b"Retry-After")
        if not raw:
            return response
        wait = retry_after_seconds(raw.decode("latin-1"))
        if wait is None:
            self.stats.inc_value("newsarchive/retry_after/unreadable")
            return response
        if wait > self.max_wait:
            self.stats.inc_value("newsarchive/retry_after/too_long")
            logger.warning("%s asks to wait %.0fs (Retry-After), over NEWSARCHIVE_RETRY_AFTER_MAX=%.0fs; "
                           "giving up on %s", self._slot(request), wait, self.max_wait, request.url)
            request.meta["dont_retry"] = True
            return response
        slot = self._slot(request)
        self.paused_until[slot] = max(self.paused_until.get(slot, 0.0), time.monotonic() + wait)
        self.stats.inc_value("newsarchive/retry_after/honoured")
        logger.info("%s answered %d with Retry-After %.1fs: pausing requests to it", slot, response.status, wait)
        return response
