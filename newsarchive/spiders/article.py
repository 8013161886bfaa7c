"""`scrapy crawl article -a url=URL[,URL…]` or `-a urls_file=PATH`: fetch and archive given pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy

from newsarchive.spiders.base import NewsSpider, read_urls_file, split_arg


class ArticleSpider(NewsSpider):
    """Archives the article pages it is given, one request each (multi-page articles are joined)."""

    name = "article"

    def __init__(self, url: str | None = None, urls_file: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = split_arg(url) + (read_urls_file(urls_file) if urls_file else [])
        if not self.urls:
            raise ValueError("give the pages to archive: -a url=URL[,URL...] or -a urls_file=PATH")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            request = self.article_request(url, discovered=False)
            if request is not None:
                yield request
