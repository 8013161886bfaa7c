"""Whether Redis can be asked now: an outage is logged once, retried with capped exponential backoff.

Workers keep going through a Redis restart or a network blip: while Redis is away nothing is taken
from the frontier, new requests wait in memory, acknowledgements wait, and the article pipeline
waits; what is already archived is not touched. When Redis answers again all of it goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis

logger = logging.getLogger(__name__)

T = TypeVar("T")

UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisUnavailable(Exception):
    """Redis did not answer (or is in backoff); try again later."""


class RedisLink:
    """Tracks outages of one Redis server for one worker."""

    def __init__(self, retry_max_seconds: float, stats: Any = None, first_delay: float = 0.25) -> None:
        self.retry_max = retry_max_seconds
        self.first_delay = min(first_delay, retry_max_seconds)
        self.stats = stats
        self.down_since: float | None = None
        self.delay = 0.0
        self.next_try = 0.0

    @property
    def up(self) -> bool:
        return self.down_since is None

    def ready(self) -> bool:
        """False while backing off after a failure."""
        return self.down_since is None or time.monotonic() >= self.next_try

    def wait_seconds(self) -> float:
        return max(0.0, self.next_try - time.monotonic()) if self.down_since is not None else 0.0

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """func(*args), or RedisUnavailable if Redis is away (or we are backing off)."""
        if not self.ready():
            raise RedisUnavailable
        try:
            result = func(*args, **kwargs)
        except UNAVAILABLE as exc:
            self.failed(exc)
            raise RedisUnavailable from exc
        self.succeeded()
        return result

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        if self.down_since is None:
            self.down_since = now
            self.delay = self.first_delay
            logger.warning("Redis unreachable (%s); waiting and retrying with backoff (archived files are safe)",
                           exc)
            if self.stats is not None:
                self.stats.inc_value("newsarchive/redis/outages")
        else:
            self.delay = min(self.delay * 2, self.retry_max)
            logger.debug("Redis still unreachable (%s); next try in %.1f s", exc, self.delay)
        self.next_try = now + self.delay

    def succeeded(self) -> None:
        if self.down_since is not None:
            logger.warning("Redis reachable again after %.1f s; going on", time.monotonic() - self.down_since)
            if self.stats is not None:
                self.stats.inc_value("newsarchive/redis/outage_seconds", round(time.monotonic() - self.down_since))
            self.down_since = None
            self.delay = 0.0


async def pause(seconds: float) -> None:
    """Waits without blocking the reactor (any Twisted reactor, asyncio's included)."""
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet import reactor, task

    await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))
