"""`scrapy crawl article -a url=URL[,URL…]` or `-a urls_file=PATH`: fetch and archive given pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from itertools import chain
from typing import Any

import scrapy

from newsarchive.spiders.base import NewsSpider, iter_urls_file, split_arg


class ArticleSpider(NewsSpider):
    """Archives the article pages it is given, one request each (multi-page articles are joined)."""

    name = "article"

    def __init__(self, url: str | None = None, urls_file: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = split_arg(url)
        self.urls_file = urls_file
        if not self.urls and not (urls_file and next(iter_urls_file(urls_file), None)):
            raise ValueError("give the pages to archive: -a url=URL[,URL...] or -a urls_file=PATH")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """Requests as the scheduler makes room for them; the file is read line by line."""
        urls = chain(self.urls, iter_urls_file(self.urls_file) if self.urls_file else ())
        for url in urls:
            request = self.article_request(url, discovered=False)
            if request is not None:
                await self.scheduler_room()
                yield request
