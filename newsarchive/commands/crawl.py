"""`scrapy crawl`, with exit statuses that a cron monitor can act on (see the README).

0  the crawl archived at least one response (or had nothing to do)
1  nothing at all could be archived (every URL failed), or the crawl could not start
2  wrong usage (Scrapy's own)
3  another run holds the archive folder's lock (NEWSARCHIVE_LOCK_WAIT: how long to wait for it)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.settings import BaseSettings
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from newsarchive.lockfile import EXIT_LOCKED, ArchiveLocked

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_NOTHING_ARCHIVED = 1


def print_sites(settings: BaseSettings) -> None:
    """`scrapy crawl site` without a name: the configured sites, one a line."""
    from newsarchive.discovery_config import DiscoveryConfig
    from newsarchive.sites import describe_sites

    lines = describe_sites(DiscoveryConfig.from_settings(settings).sites_dir)
    print("Configured sites (crawl one with: scrapy crawl site -a name=NAME):")
    for line in lines or ["(none: add NAME.toml files to NEWSARCHIVE_SITES_DIR)"]:
        print("  " + line)


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
        if args[0] == "site" and not opts.spargs.get("name"):
            assert self.settings is not None
            print_sites(self.settings)
            return
        assert self.crawler_process is not None
        crawler = self._create_crawler(args[0])
        errors: list[BaseException] = []
        running: Any = self.crawler_process.crawl(crawler, **opts.spargs)
        if isinstance(running, Deferred):
            running.addErrback(lambda failure: _keep_lock_error(failure, errors))
        elif isinstance(running, asyncio.Task):
            running.add_done_callback(lambda task: _task_error(task, errors))
        self.crawler_process.start()
        if any(isinstance(error, ArchiveLocked) for error in errors):
            self.exitcode = EXIT_LOCKED  # already logged, with who holds the lock
            return
        if self.crawler_process.bootstrap_failed or getattr(self.crawler_process, "has_exception", False):
            self.exitcode = 1
            return
        self.exitcode = exit_status(crawler.stats.get_stats() if crawler.stats else {})


def _keep_lock_error(failure: Failure, errors: list[BaseException]) -> Failure | None:
    errors.append(failure.value)
    return None if failure.check(ArchiveLocked) else failure


def _task_error(task: asyncio.Task[Any], errors: list[BaseException]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        errors.append(error)
        if not isinstance(error, ArchiveLocked):  # retrieved here, so asyncio no longer prints it
            logger.critical("The crawl could not start: %s", error, exc_info=error)
