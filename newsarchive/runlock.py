"""Extension: holds the archive folder's lock for the whole crawl, recovering a killed run first."""

from __future__ import annotations

import atexit
import logging

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive.archive import Archive
from newsarchive.config import ArchiveConfig
from newsarchive.lockfile import ArchiveLocked
from newsarchive.recovery import lock_and_recover

logger = logging.getLogger(__name__)


class ArchiveLock:
    """Holds the lock from before the engine starts until it stops (see newsarchive.lockfile).

    Built before the engine (extensions come first), so a second run stops before fetching anything.
    """

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("NEWSARCHIVE_ENABLED", True):
            raise NotConfigured
        config = ArchiveConfig.from_settings(crawler.settings)
        archive = Archive.for_crawler(crawler)
        try:
            self.lock = lock_and_recover(config.directory, config.lock_wait, archive.state)
        except ArchiveLocked as exc:
            logger.error("%s", exc)
            archive.close()
            raise
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)
        # A crawl that fails to start (a bad setting in a later component) never stops its engine;
        # it has written nothing, so it lets go as a finished run would. A killed run cannot, by design.
        atexit.register(self.lock.release)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveLock:
        return cls(crawler)

    def engine_stopped(self) -> None:
        self.lock.release()
