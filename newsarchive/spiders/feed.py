"""`scrapy crawl feed -a url=FEED[,FEED…]`: the articles that RSS, RDF or Atom feeds list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy

from newsarchive.spiders.base import split_arg
from newsarchive.spiders.discovery import DiscoverySpider


class FeedSpider(DiscoverySpider):
    """Fetches each feed, then every item's link as an article (feed title, date, author as hints)."""

    name = "feed"

    def __init__(self, url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feed_urls = split_arg(url)
        if not self.feed_urls:
            raise ValueError("give the feeds to read: -a url=FEED[,FEED...]")
        self.allow_domains_of(self.feed_urls)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.feed_urls:
            if (request := self.feed_request(url)) is not None:
                yield request
