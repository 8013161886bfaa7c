"""The crawl state of issue 4 (`CrawlState`) in Redis, shared by all workers of a crawl.

Same meaning as `SQLiteCrawlState`: captures by record id, completions per URL in the order they
happened, named counters. Every change that touches several keys is one Lua script, so two workers
never see half of it. Kept across runs of the crawl (like the SQLite file), under the crawl's keys.
While Redis is away, writes wait in memory (in order) and are sent when it answers again; reads
answer "not archived" (the page is fetched, as for a new URL) and empty counters.

The state is made with the archive, before the spider exists, but the crawl's name (and so its keys)
is known only once the shared scheduler has opened with the spider's arguments: until then writes wait
(the archive lock's start-up recovery marks articles done) and reads find nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from typing import Any

import redis
from scrapy.crawler import Crawler

from newsarchive.redis_config import CrawlKeys
from newsarchive.redis_link import RedisLink, RedisUnavailable
from newsarchive.state import Capture, CrawlState, state_key

logger = logging.getLogger(__name__)

# KEYS: captures HASH, sequence, done prefix, urls prefix   ARGV: record id, URLs…
# -> completions added: each URL's ZSET (record id -> sequence), only for a known capture, NX.
MARK_DONE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local added = 0
for i = 2, #ARGV do
  local seq = redis.call('INCR', KEYS[2])
  added = added + redis.call('ZADD', KEYS[3] .. ARGV[i], 'NX', seq, ARGV[1])
  redis.call('SADD', KEYS[4] .. ARGV[1], ARGV[i])
end
return added
"""

# KEYS: captures, file prefix, done prefix, urls prefix   ARGV: record ids…
FORGET = """
local forgotten = 0
for i = 1, #ARGV do
  local raw = redis.call('HGET', KEYS[1], ARGV[i])
  if raw then
    local capture = cjson.decode(raw)
    redis.call('SREM', KEYS[2] .. capture['warc_file'], ARGV[i])
    for _, url in ipairs(redis.call('SMEMBERS', KEYS[4] .. ARGV[i])) do
      redis.call('ZREM', KEYS[3] .. url, ARGV[i])
    end
    redis.call('DEL', KEYS[4] .. ARGV[i])
    redis.call('HDEL', KEYS[1], ARGV[i])
    forgotten = forgotten + 1
  end
end
return forgotten
"""

# KEYS: captures, file prefix   ARGV: record id, warc file, capture JSON
RECORD = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('SADD', KEYS[2] .. ARGV[2], ARGV[1])
return 1
"""


class RedisCrawlState(CrawlState):
    """CrawlState in Redis (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.pending: list[Callable[[], Any]] = []  # writes waiting for Redis (or for the crawl's name), in order
        self.server: redis.Redis | None = None
        self.link: RedisLink | None = None

    def _bind(self) -> bool:
        """Takes the server, the outage tracker and the keys from the shared scheduler once it is open."""
        if self.server is not None:
            return True
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine is not None else None
        keys: CrawlKeys | None = getattr(scheduler, "keys", None)
        if keys is None:
            return False
        server, link = scheduler.server, scheduler.link  # type: ignore[union-attr]
        self.captures_key = keys.state("captures")
        self.seq_key = keys.state("seq")
        self.file_prefix = keys.state("file:")
        self.done_prefix = keys.state("done:")
        self.urls_prefix = keys.state("urls:")
        self.counts_prefix = keys.state("counts:")
        self._record = server.register_script(RECORD)
        self._mark_done = server.register_script(MARK_DONE)
        self._forget = server.register_script(FORGET)
        self.server, self.link = server, link
        return True

    # -- writes: sent now, or kept in order until Redis answers --------------------------------
    def _write(self, action: Callable[[], Any]) -> None:
        self.pending.append(action)
        self.flush()

    def flush(self) -> bool:
        """Sends waiting writes; False if Redis is still away (or the crawl not yet named)."""
        if not self._bind():
            return False
        assert self.link is not None
        try:
            while self.pending:
                self.link.call(self.pending[0])
                self.pending.pop(0)
        except RedisUnavailable:
            return False
        return True

    def record_capture(self, capture: Capture) -> None:
        values = asdict(capture)
        values["url"] = state_key(capture.url)
        data = json.dumps(values)
        self._write(lambda: self._record(keys=[self.captures_key, self.file_prefix],
                                         args=[capture.record_id, capture.warc_file, data]))

    def mark_done(self, record_id: str, urls: Iterable[str]) -> None:
        unique = list(dict.fromkeys(state_key(u) for u in urls))
        self._write(lambda: self._mark_done(
            keys=[self.captures_key, self.seq_key, self.done_prefix, self.urls_prefix], args=[record_id, *unique]))

    def forget(self, record_ids: Iterable[str]) -> int:
        ids = list(record_ids)
        if not ids or not self.flush():
            return 0
        assert self.link is not None
        try:
            return int(self.link.call(self._forget, keys=[self.captures_key, self.file_prefix, self.done_prefix,
                                                           self.urls_prefix], args=ids))
        except RedisUnavailable:
            return 0

    def add_counts(self, key: str, counts: Mapping[str, int]) -> None:
        items = {name: int(value) for name, value in counts.items() if int(value)}
        if not items:
            return

        def send() -> Any:
            assert self.server is not None
            pipe = self.server.pipeline(transaction=True)
            for name, value in items.items():
                pipe.hincrby(self.counts_prefix + key, name, value)
            return pipe.execute()

        self._write(send)

    # -- reads ----------------------------------------------------------------------------------
    def archived(self, url: str) -> Capture | None:
        if not self.flush():
            return None
        assert self.link is not None and self.server is not None
        try:
            newest = self.link.call(self.server.zrevrange, self.done_prefix + state_key(url), 0, 0)
            if not newest:
                return None
            raw = self.link.call(self.server.hget, self.captures_key, newest[0])
        except RedisUnavailable:
            return None
        return Capture(**json.loads(raw)) if raw else None

    def captures_in(self, warc_file: str) -> list[Capture]:
        if not self._bind():
            return []
        assert self.link is not None and self.server is not None
        try:
            ids = self.link.call(self.server.smembers, self.file_prefix + warc_file)
            raws = self.link.call(self.server.hmget, self.captures_key, list(ids)) if ids else []
        except RedisUnavailable:
            return []
        return [Capture(**json.loads(raw)) for raw in raws if raw]

    def counts(self, key: str, min_value: int = 1) -> dict[str, int]:
        if not self._bind():
            return {}
        assert self.link is not None and self.server is not None
        try:
            raw = self.link.call(self.server.hgetall, self.counts_prefix + key)
        except RedisUnavailable:
            return {}
        return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items() if int(v) >= min_value}

    def close(self) -> None:
        if self.pending and not self.flush():
            logger.error("Redis unreachable at close: %d crawl-state writes not sent", len(self.pending))
