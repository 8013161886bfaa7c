"""A plain fetch-only Scrapy spider: the article spider's requests, nothing done with the responses.

Run from the project folder (so the project's settings and download handler apply) with archiving off:
    scrapy runspider benchmarks/fetch_spider.py -a urls_file=URLS -s NEWSARCHIVE_ENABLED=False
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from newsarchive.spiders.article import ArticleSpider


class FetchOnlySpider(ArticleSpider):
    name = "fetchonly"
    _cpu_at_start = 0.0

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._cpu_at_start = time.process_time()
        async for request in super().start():
            yield request

    def closed(self, reason: str) -> None:
        """CPU seconds of this process from the first request on (start-up imports left out)."""
        self.crawler.stats.set_value("benchmark/cpu_seconds", time.process_time() - self._cpu_at_start)

    def parse_article(self, response: Response, **hints: Any) -> Iterator[Any]:
        self.crawler.stats.inc_value("benchmark/fetched")
        return iter(())
