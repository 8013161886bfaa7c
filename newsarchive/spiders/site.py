"""`scrapy crawl site -a name=NAME`: a site described in `sites/NAME.toml` (see the README).

Its feeds and sitemaps are read, its start pages followed to `max_depth`, its allow/deny patterns and
extra domains applied, and its extraction rules (CSS selectors to drop) passed on with every article.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, Self

import scrapy
from scrapy.crawler import Crawler

from newsarchive.discovery_config import DiscoveryConfig
from newsarchive.sites import SiteConfig, describe_sites, find_site
from newsarchive.spiders.discovery import DiscoverySpider


class SiteSpider(DiscoverySpider):
    name = "site"
    site: SiteConfig

    def __init__(self, name: str | None = None, base_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.site_name = name
        self.base_url = base_url

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        sites_dir = DiscoveryConfig.from_settings(crawler.settings).sites_dir
        if not spider.site_name:
            listing = "\n".join(describe_sites(sites_dir)) or "(none)"
            raise ValueError(f"give a site: -a name=NAME. Configured sites:\n{listing}")
        spider.configure(find_site(spider.site_name, sites_dir, spider.base_url))
        return spider

    def configure(self, site: SiteConfig) -> None:
        self.site = site
        self.max_depth = site.max_depth
        self.allow_patterns = tuple(re.compile(p) for p in site.allow)
        self.deny_patterns = tuple(re.compile(p) for p in site.deny)
        self.drop_selectors = site.drop_selectors
        self.allowed_domains = site.domains

    async def start(self) -> AsyncIterator[scrapy.Request]:
        requests = [self.feed_request(url) for url in self.site.feeds]
        requests += [self.sitemap_request(url) for url in self.site.sitemaps]
        requests += [self.listing_request(url, 0) for url in self.site.start_urls]
        for request in requests:
            if request is not None:
                yield request
