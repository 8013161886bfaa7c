"""`scrapy crawl`, with exit statuses that a cron monitor can act on (see the README).

0  the crawl archived at least one response (or had nothing to do)
1  nothing at all could be archived (every URL failed), or the crawl could not start
2  wrong usage (Scrapy's own)
"""

from __future__ import annotations

import argparse
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

EXIT_OK = 0
EXIT_NOTHING_ARCHIVED = 1


def exit_status(stats: dict[str, Any]) -> int:
    """The crawl's exit status from its final stats (the table in the module docstring)."""
    attempted = stats.get("downloader/request_count", 0) + stats.get("newsarchive/skipped/bad_url", 0)
    if attempted and not stats.get("newsarchive/warc/responses"):
        return EXIT_NOTHING_ARCHIVED
    return EXIT_OK


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) < 1:
            raise UsageError
        if len(args) > 1:
            raise UsageError("running 'scrapy crawl' with more than one spider is not supported")
        assert self.crawler_process is not None
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed or getattr(self.crawler_process, "has_exception", False):
            self.exitcode = 1
            return
        self.exitcode = exit_status(crawler.stats.get_stats() if crawler.stats else {})
