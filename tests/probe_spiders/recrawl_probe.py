"""A stand-in for the discovery spiders in the recrawl tests: one "discovery" index page, its links as articles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from newsarchive.spiders.base import NewsSpider


class RecrawlProbeSpider(NewsSpider):
    name = "recrawl_probe"

    def __init__(self, index: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = index

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.index, meta={"newsarchive_kind": "discovery"}, callback=self.parse_index,
                             errback=self.errback)

    def parse_index(self, response: Response) -> Iterator[scrapy.Request]:
        for href in response.css("a::attr(href)").getall():
            request = self.valid_request(response.urljoin(href), callback=self.parse_article, errback=self.errback)
            if request is not None:
                yield request
