"""Scrapy scheduler for workers of a shared crawl: scrapy-redis's frontier and dupefilter, with leases.

Built on scrapy-redis (its Scheduler, PriorityQueue serialization and RFPDupeFilter fingerprints);
what it adds is in `newsarchive.leases`: a request taken from the frontier is leased, renewed while
this worker works on it, and acknowledged only when Scrapy is completely done with it — downloaded
and archived, its callback run, every item it produced through the pipelines (sidecar line written),
every request it produced (links, redirects, retries) safely in Redis. A worker that dies leaves its
leases to expire and others take them over.

Scrapy has no signal for "a request is completely done"; the engine keeps the requests it works on in
its slot's `inprogress` set and removes one only after all of the above. We compare our leases with
that set (the same set Scrapy's own `get_engine_status()` reads) each time the engine asks for the
next request, which it does right after removing one.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from newsarchive.boilerplate import BlockStats
from newsarchive.config import SettingError
from newsarchive.leases import Lease, LeaseStore
from newsarchive.redis_boilerplate import RedisBlockStats
from newsarchive.redis_config import CrawlKeys, RedisConfig, connect, default_crawl_id, new_worker_id, safe_url
from newsarchive.redis_link import RedisLink, RedisUnavailable, pause
from newsarchive.spiders.base import SKIPPED_META

logger = logging.getLogger(__name__)

LEASE_META = "newsarchive_lease"
SHARED_STATS_PREFIXES = ("newsarchive/", "downloader/", "item_", "response_received_count", "scheduler/",
                         "log_count/", "retry/", "dupefilter/")


class LeasingQueue(PriorityQueue):
    """scrapy-redis's priority queue (same encoding and scores) whose pop leases instead of forgetting."""

    def __init__(self, server: redis.Redis, spider: Spider, key: str, store: LeaseStore,
                 serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer=serializer)
        self.store = store

    def push_new(self, request: Request, fingerprint: str | None) -> bool:
        return self.store.push(self._encode_request(request), -request.priority, fingerprint)

    def push(self, request: Request) -> None:
        self.push_new(request, None)

    def lease(self, lease_seconds: float) -> Lease | None:
        return self.store.lease(lease_seconds)

    def decode(self, data: bytes) -> Request:
        return self._decode_request(data)


class LeasingScheduler(Scheduler):
    """One worker's view of the shared frontier (see the module docstring)."""

    def __init__(self, crawler: Crawler, config: RedisConfig, server: redis.Redis) -> None:
        super().__init__(server, persist=True, dupefilter_cls="scrapy_redis.dupefilter.RFPDupeFilter")
        self.crawler = crawler
        self.config = config
        self.stats = crawler.stats
        self.link = RedisLink(config.retry_max_seconds, crawler.stats)
        self.worker = new_worker_id()
        self.tick_seconds = max(0.2, min(1.0, config.lease_seconds / 4))
        self.leased: dict[str, Request] = {}
        self.renewed_at: dict[str, float] = {}  # lease id -> when taken or last renewed (monotonic)
        self.responded: set[str] = set()
        self.to_ack: list[tuple[str, str]] = []
        self.to_push: list[tuple[Request, str | None]] = []
        self._last_len = 0  # frontier size last read from Redis (see __len__)
        self.idle_since: float | None = None
        self.started = time.time()
        self.pushed_stats: dict[str, int] = {}
        self.store: LeaseStore
        self.keys: CrawlKeys
        self._tick_loop: task.LoopingCall | None = None
        self._block_stats: RedisBlockStats | None = None
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeasingScheduler:
        config = RedisConfig.from_settings(crawler.settings)
        if not config.enabled:
            raise NotConfigured("LeasingScheduler needs NEWSARCHIVE_REDIS_URL")
        server = connect(config.url)
        try:
            server.ping()
        except redis.exceptions.AuthenticationError as exc:
            raise SettingError(f"NEWSARCHIVE_REDIS_URL: Redis refused the credentials ({exc})") from None
        except redis.exceptions.ResponseError as exc:  # e.g. NOAUTH: a password is needed
            raise SettingError(f"NEWSARCHIVE_REDIS_URL: Redis refused the connection ({exc})") from None
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            logger.warning("Redis at %s not reachable yet (%s); will wait for it", safe_url(config.url), exc)
        return cls(crawler, config, server)

    # -- opening and closing --------------------------------------------------------------------
    def open(self, spider: Spider) -> Any:
        self.spider = spider
        arguments = dict(getattr(spider, "crawl_arguments", {}) or {})
        crawl_id = self.config.crawl_id or default_crawl_id(spider.name, arguments)
        self.keys = CrawlKeys(crawl_id)
        self.store = LeaseStore(self.server, self.keys, self.worker)
        self.queue = LeasingQueue(self.server, spider, self.keys.queue, self.store, serializer=self.serializer)
        self.df = RFPDupeFilter(self.server, key=self.keys.seen, debug=spider.settings.getbool("DUPEFILTER_DEBUG"))
        return deferred_from_coro(self._join(spider.name, arguments))

    async def _join(self, spider_name: str, arguments: dict[str, Any]) -> None:
        """Joins the crawl, waiting with backoff while Redis is away."""
        while True:
            try:
                restarted, run = self.link.call(self.store.open, spider_name, arguments)
                break
            except RedisUnavailable:
                await pause(max(self.link.wait_seconds(), 0.05))
        logger.info("Worker %s joined crawl %s (run %d%s) on %s", self.worker, self.keys.crawl_id, run,
                    ", the previous run had finished" if restarted else "", safe_url(self.config.url))
        self.stats.set_value("newsarchive/redis/crawl_id", self.keys.crawl_id)
        self.stats.set_value("newsarchive/redis/worker", self.worker)
        self._tick_loop = task.LoopingCall(self._tick)
        self._tick_loop.start(self.tick_seconds, now=False)

    def close(self, reason: str) -> Any:
        if self._tick_loop is not None and self._tick_loop.running:
            self._tick_loop.stop()
        return deferred_from_coro(self._leave(reason))

    async def _leave(self, reason: str) -> None:
        """Acknowledges what is done, hands back what is not, for up to a lease's time if Redis is away."""
        self._settle(self._in_progress())  # the engine has finished everything it could by now
        deadline = time.monotonic() + self.config.lease_seconds
        while time.monotonic() < deadline:
            try:
                self._flush()
                unfinished = [lid for lid in self.leased]
                if unfinished:
                    released = self.link.call(self.store.release, unfinished)
                    logger.info("Handed %d unfinished requests back to the frontier", released)
                    self.leased.clear()
                self._push_stats()
                self.link.call(self.store.heartbeat, self._heartbeat_info(stopped=reason))
                return
            except RedisUnavailable:
                await pause(max(self.link.wait_seconds(), 0.05))
        logger.error("Redis unreachable at close: %d new requests not queued, %d acknowledgements not sent "
                     "(their leases expire and other workers redo them)", len(self.to_push), len(self.to_ack))

    # -- Scrapy's scheduler interface ---------------------------------------------------------
    def enqueue_request(self, request: Request) -> bool:
        request.meta.pop(LEASE_META, None)  # a redirect or retry copies its parent's meta
        fingerprint = None if request.dont_filter else self.df.request_fingerprint(request)
        if self.to_push:
            self.to_push.append((request, fingerprint))
            return True
        return self._push_one(request, fingerprint, buffer=True)

    def next_request(self) -> Request | None:
        self._settle(self._in_progress())
        try:
            self._flush()
            lease = self.link.call(self.queue.lease, self.config.lease_seconds)
        except RedisUnavailable:
            return None
        if lease is None:
            return None
        try:
            request = self.queue.decode(lease.data)
        except Exception:  # e.g. a spider callback renamed since it was queued: dropped, not retried forever
            logger.exception("Could not read a request from the frontier; dropped")
            self.stats.inc_value("newsarchive/redis/undecodable")
            self.to_ack.append((lease.id, "failed"))
            return None
        request.meta[LEASE_META] = lease.id
        self.leased[lease.id] = request
        self.renewed_at[lease.id] = time.monotonic()
        self.idle_since = None
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        if self.to_push or self.to_ack or not self.link.up:
            return True
        try:
            queued = self.link.call(self.server.zcard, self.keys.queue)
        except RedisUnavailable:
            return True
        return queued > 0

    def __len__(self) -> int:
        """Requests queued in the shared frontier, plus this worker's not yet pushed. While Redis is
        away, the last count known: callers such as the spiders' start buffer must not fail then."""
        try:
            self._last_len = int(self.link.call(len, self.queue))
        except RedisUnavailable:
            pass
        return self._last_len + len(self.to_push)

    # -- what the pipeline asks ---------------------------------------------------------------
    async def claim_article(self, url: str, capture: str, write: Callable[[], object]) -> bool:
        """Writes the article's line with `write` and says whether `capture` (a response record id) is the
        one whose line stands for `url` in this run; on False the pipeline takes its line back.

        A request re-leased after its first worker died (or was cut off from Redis longer than a lease)
        may have been written there already. The claim is sent just before the line is written and its
        answer read just after (see LeaseStore.send_claim), so a worker killed at any point after its
        write has claimed the URL, and the next worker's line is withdrawn: at most one line per URL.
        While Redis is away this waits (with backoff), and so does that item.
        """
        key = hashlib.sha1(url.encode("utf-8")).hexdigest()
        while True:  # send the claim, then write
            try:
                connection = self.link.call(self.store.send_claim, key, capture)
                break
            except RedisUnavailable:
                await pause(max(self.link.wait_seconds(), 0.05))
        write()
        try:
            return self.link.call(self.store.read_claim, connection)
        except RedisUnavailable:
            pass
        while True:  # the answer was lost: ask again (the claim answers the same for the same capture)
            try:
                return self.link.call(self.store.claim_article, key, capture)
            except RedisUnavailable:
                await pause(max(self.link.wait_seconds(), 0.05))

    def shared_block_stats(self, local: BlockStats) -> BlockStats:
        """The crawl's site-level boilerplate statistics, counted in Redis with `local`'s thresholds."""
        if self._block_stats is None:
            self._block_stats = RedisBlockStats(self.server, self.keys, self.link, local)
        return self._block_stats

    # -- signals ------------------------------------------------------------------------------
    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        lease_id = request.meta.get(LEASE_META)
        if lease_id is not None:
            self.responded.add(lease_id)

    def _took_back(self, reclaimed: int) -> None:
        """Leases of dead workers returned to the frontier, by whichever path found them expired."""
        if reclaimed:
            logger.info("Took back %d expired leases into the frontier", reclaimed)
            self.stats.inc_value("newsarchive/redis/reclaimed", reclaimed)

    def spider_idle(self, spider: Spider) -> None:
        """Stay open while anything is queued or leased anywhere; close after NEWSARCHIVE_REDIS_IDLE_SECONDS."""
        self._settle(self._in_progress())
        if self.leased or self.to_push or self.to_ack or not self.link.up:
            raise DontCloseSpider
        try:
            self._took_back(int(self.link.call(self.store.reclaim_expired) or 0))
            queued, leased = self.link.call(self.store.pending)
        except RedisUnavailable:
            raise DontCloseSpider from None
        if queued or leased:
            self.idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
            logger.info("Frontier empty and nothing leased; closing in %.1f s unless work appears",
                        self.config.idle_seconds)
        if now - self.idle_since < self.config.idle_seconds:
            raise DontCloseSpider
        try:
            if not self.link.call(self.store.finish):
                self.idle_since = None
                raise DontCloseSpider
        except RedisUnavailable:
            raise DontCloseSpider from None
        logger.info("Crawl %s finished: frontier empty, nothing leased", self.keys.crawl_id)

    # -- bookkeeping --------------------------------------------------------------------------
    def _in_progress(self) -> set[Request]:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        return getattr(slot, "inprogress", set()) if slot is not None else set()

    def _settle(self, in_progress: set[Request]) -> None:
        """Leases whose request Scrapy is done with become acknowledgements to send."""
        for lease_id, request in list(self.leased.items()):
            if request not in in_progress:
                del self.leased[lease_id]
                self.renewed_at.pop(lease_id, None)
                if lease_id in self.responded:
                    outcome = "done"
                else:
                    outcome = "skipped" if request.meta.get(SKIPPED_META) else "failed"
                self.responded.discard(lease_id)
                self.to_ack.append((lease_id, outcome))

    def _flush(self) -> None:
        """Sends buffered requests, then acknowledgements (never an ack before its children are queued)."""
        while self.to_push:
            request, fingerprint = self.to_push[0]
            self._push_one(request, fingerprint, buffer=False)
            self.to_push.pop(0)
        if self.to_ack:
            batch = list(self.to_ack)
            acked = self.link.call(self.store.ack, batch)
            del self.to_ack[: len(batch)]
            self.stats.inc_value("newsarchive/redis/acked", acked)
            if acked < len(batch):
                self.stats.inc_value("newsarchive/redis/late_acks", len(batch) - acked)

    def _push_one(self, request: Request, fingerprint: str | None, buffer: bool) -> bool:
        try:
            added = self.link.call(self.queue.push_new, request, fingerprint)
        except RedisUnavailable:
            if not buffer:
                raise
            self.to_push.append((request, fingerprint))
            return True
        except Exception as exc:
            logger.error("Cannot queue %s in Redis (%s: %s); dropped", request, type(exc).__name__, exc)
            self.stats.inc_value("newsarchive/redis/unserializable")
            return False
        if not added:
            self.df.log(request, self.spider)
            self.stats.inc_value("dupefilter/filtered")
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def _tick(self) -> None:
        """Every ~second: flush, renew our leases, reclaim expired ones, heartbeat, share stats."""
        try:
            self._tick_once()
        except Exception:  # an error reply (e.g. Redis out of memory) must not stop the renewals for good
            logger.exception("Redis bookkeeping failed; trying again in %.1f s", self.tick_seconds)
            self.stats.inc_value("newsarchive/redis/errors")

    def _tick_once(self) -> None:
        if not self.link.ready():
            return
        was_down = not self.link.up
        self._settle(self._in_progress())
        try:
            self._flush()
            pipe = self.server.pipeline(transaction=False)
            due = self._renewals_due()
            if due:
                self.store.renew(due, self.config.lease_seconds, client=pipe)
            reclaim_index = len(pipe)
            self.store.reclaim_expired(client=pipe)
            self.store.heartbeat(self._heartbeat_info(), client=pipe)
            self._stats_deltas(pipe)
            results = self.link.call(pipe.execute)
        except RedisUnavailable:
            return
        now = time.monotonic()
        for lid in due:
            if lid in self.leased:
                self.renewed_at[lid] = now
        self._took_back(int(results[reclaim_index] or 0))
        self._commit_stats()
        if was_down:
            logger.info("Back in crawl %s: %d leases held", self.keys.crawl_id, len(self.leased))
        self._wake_engine()

    def _renewals_due(self) -> list[str]:
        """Leases held for a third of their time since taken or last renewed (not every lease every tick)."""
        now = time.monotonic()
        every = self.config.lease_seconds / 3
        return [lid for lid in self.leased if now - self.renewed_at.get(lid, now) >= every]

    def _wake_engine(self) -> None:
        """Lets the engine ask for requests now, not at its next 5 s heartbeat (other workers add work)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    def _heartbeat_info(self, stopped: str | None = None) -> dict[str, Any]:
        info: dict[str, Any] = {"started": self.started, "leased": len(self.leased),
                                "articles": self.stats.get_value("newsarchive/articles", 0),
                                "responses": self.stats.get_value("newsarchive/warc/responses", 0)}
        if stopped:
            info["stopped"] = stopped
        return info

    def _stats_deltas(self, pipe: Any) -> None:
        self._pending_stats: dict[str, int] = {}
        for key, value in self.stats.get_stats().items():
            if isinstance(value, bool) or not isinstance(value, int) or not key.startswith(SHARED_STATS_PREFIXES):
                continue
            delta = value - self.pushed_stats.get(key, 0)
            if delta:
                pipe.hincrby(self.keys.stats, key, delta)
                self._pending_stats[key] = value

    def _commit_stats(self) -> None:
        self.pushed_stats.update(getattr(self, "_pending_stats", {}))
        self._pending_stats = {}

    def _push_stats(self) -> None:
        pipe = self.server.pipeline(transaction=False)
        self._stats_deltas(pipe)
        self.link.call(pipe.execute)
        self._commit_stats()
