"""Scrapy add-on: `-s NEWSARCHIVE_REDIS_URL=redis://…` makes this `scrapy crawl` a worker of a shared crawl.

Without the setting nothing changes (Scrapy's own scheduler, no server). With it, the scheduler is
`newsarchive.redis_scheduler.LeasingScheduler` (scrapy-redis frontier and dupefilter, with leases).
"""

from __future__ import annotations

from scrapy.settings import Settings

from newsarchive.redis_config import RedisConfig


class RedisWorkers:
    """Switches the scheduler when NEWSARCHIVE_REDIS_URL is set; checks the other settings early."""

    def update_settings(self, settings: Settings) -> None:
        config = RedisConfig.from_settings(settings)  # a bad value fails here, naming the setting
        if not config.enabled:
            return
        settings.set("SCHEDULER", "newsarchive.redis_scheduler.LeasingScheduler", priority="addon")
        settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority="addon")
        settings.set("REDIS_URL", config.url, priority="addon")
        settings.set("SCHEDULER_PERSIST", True, priority="addon")
