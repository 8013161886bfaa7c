"""`scrapy crawl sitemap -a url=SITEMAP[,…]`: the articles that sitemaps (and news sitemaps) list.

Given a site root (`https://example.com/`), the sitemaps named in its robots.txt are read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy

from newsarchive.spiders.base import split_arg
from newsarchive.spiders.discovery import DiscoverySpider


class NewsSitemapSpider(DiscoverySpider):
    """Reads sitemap indexes, url sets, gzipped and Google News sitemaps; fetches the listed articles."""

    name = "sitemap"

    def __init__(self, url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sitemap_urls = split_arg(url)
        if not self.sitemap_urls:
            raise ValueError("give the sitemaps (or site roots) to read: -a url=SITEMAP[,SITEMAP...]")
        self.allow_domains_of(self.sitemap_urls)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.sitemap_urls:
            if (request := self.sitemap_request(url)) is not None:
                yield request
