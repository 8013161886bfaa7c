"""robots.txt as RFC 9309 reads a server error: a site whose robots.txt answers 5xx (or 429) is left alone.

Scrapy parses whatever body robots.txt returns, so a "503 Service Unavailable" page (no rules in it)
lets the crawl fetch everything, just when the site is struggling. RFC 9309, section 2.3.1.4: when
robots.txt is unreachable because of server errors, the crawler MUST assume complete disallow. So after
Scrapy's retries, such a site's requests are dropped for this run (the next run asks again), with one
warning per site and a count. A 4xx answer still means "no rules" (section 2.3.1.3), as in Scrapy. A
robots.txt that cannot be downloaded at all (refused, timed out) still lets requests go, as in Scrapy:
they then fail with the same network error, which says more than "forbidden".
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)

#: 429 Too Many Requests is read like a server error, as search engines read it.
UNREACHABLE_STATUSES = frozenset({429})


def unreachable(status: int) -> bool:
    """Whether a robots.txt answer with this status means "unreachable" (RFC 9309 section 2.3.1.4)."""
    return status >= 500 or status in UNREACHABLE_STATUSES


class RFC9309RobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's RobotsTxtMiddleware, with robots.txt's server errors read as "disallow everything"."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        #: host -> the status its robots.txt answered with, for the hosts left alone in this run
        self._unreachable: dict[str, int] = {}

    def process_response(self, request: Request, response: Response) -> Response:
        """Sees robots.txt's final answer (after RetryMiddleware's retries, which sits nearer the
        downloader) on its way to the parser; every other response passes untouched."""
        if (request.meta.get("dont_obey_robotstxt") and urlparse_cached(request).path == "/robots.txt"
                and unreachable(response.status)):
            netloc = urlparse_cached(request).netloc
            if netloc not in self._unreachable:
                self._unreachable[netloc] = response.status
                self.crawler.stats.inc_value("newsarchive/robots/unreachable_sites")
                logger.warning(
                    "robots.txt of %s answered %d: nothing more is fetched from that site in this run "
                    "(RFC 9309: a server error on robots.txt means disallow all)", netloc, response.status)
        return response

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        status = self._unreachable.get(urlparse_cached(request).netloc)
        if status is not None:
            self.crawler.stats.inc_value("newsarchive/robots/unreachable_skipped")
            raise IgnoreRequest(f"robots.txt answered {status}: the site disallows all for this run")
        super().process_request_2(rp, request)
