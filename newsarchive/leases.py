"""The shared frontier with leases: every change is one Lua script, so it is atomic across workers.

scrapy-redis pops a request and forgets it; a worker killed with requests in flight loses them. Here
a pop moves the request into a lease (deadline on Redis' own clock, so machines' clocks do not
matter) that the worker renews while it works and acknowledges once the request's outcome is on
disk. Leases whose deadline passed (the worker died, or lost Redis for longer than a lease) go back
to the queue with their priority, and another worker takes them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis

from newsarchive.redis_config import REGISTRY_KEY, CrawlKeys

_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: queue, seen   ARGV: fingerprint ('' = do not filter), score, request
PUSH = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
return 1
"""

# KEYS: queue, leases, lease_data, lease_info, lease_seq, counters   ARGV: lease ms, worker
LEASE = """
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return false end
""" + _NOW_MS + """
redis.call('ZREM', KEYS[1], item[1])
local id = redis.call('INCR', KEYS[5])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), id)
redis.call('HSET', KEYS[3], id, item[1])
redis.call('HSET', KEYS[4], id, item[2] .. ' ' .. ARGV[2])
redis.call('HINCRBY', KEYS[6], 'leased', 1)
return {tostring(id), item[1]}
"""

# KEYS: leases, lease_data, lease_info, counters, worker_done   ARGV: worker, id1, outcome1, id2, …
ACK = """
local acked = 0
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[1], id) == 1 then
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
    redis.call('HINCRBY', KEYS[4], ARGV[i + 1], 1)
    redis.call('HINCRBY', KEYS[5], ARGV[1], 1)
    acked = acked + 1
  else
    redis.call('HINCRBY', KEYS[4], 'late_acks', 1)
  end
end
return acked
"""

# KEYS: leases   ARGV: lease ms, id1, id2, …   (XX: a lease already handed on is not revived)
RENEW = _NOW_MS + """
local renewed = 0
for i = 2, #ARGV do
  renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[i])
end
return renewed
"""

# KEYS: leases, lease_data, lease_info, queue, counters
# ARGV: 'expired', limit   or   'release', id1, id2, …  (a closing worker gives back what it holds)
REQUEUE = _NOW_MS + """
local ids
local counter
if ARGV[1] == 'expired' then
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
  counter = 'reclaimed'
else
  ids = {}
  for i = 2, #ARGV do
    if redis.call('ZSCORE', KEYS[1], ARGV[i]) then table.insert(ids, ARGV[i]) end
  end
  counter = 'released'
end
for _, id in ipairs(ids) do
  local data = redis.call('HGET', KEYS[2], id)
  local info = redis.call('HGET', KEYS[3], id)
  if data then
    local score = info and string.match(info, '^(%S+)') or '0'
    redis.call('ZADD', KEYS[4], score, data)
  end
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HINCRBY', KEYS[5], counter, 1)
end
return #ids
"""

# KEYS: queue, leases, meta   -> 1 and the crawl marked finished, if nothing is queued or leased
FINISH = _NOW_MS + """
if redis.call('ZCARD', KEYS[1]) > 0 or redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
redis.call('HSET', KEYS[3], 'finished', now / 1000)
return 1
"""

# KEYS: articles   ARGV: url key, "worker capture-id"  -> 1 if ours (now or already: a retry after a lost reply)
CLAIM = """
local holder = redis.call('HGET', KEYS[1], ARGV[1])
if not holder then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
if holder == ARGV[2] then return 1 end
return 0
"""

# KEYS: meta, run keys…   ARGV: spider, arguments JSON
# A crawl that finished is started anew (next cron run): frontier, leases and counters cleared.
OPEN = _NOW_MS + """
local restarted = 0
if redis.call('HEXISTS', KEYS[1], 'finished') == 1 then
  for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
  redis.call('HDEL', KEYS[1], 'finished')
  redis.call('HINCRBY', KEYS[1], 'run', 1)
  redis.call('HSET', KEYS[1], 'started', now / 1000)
  restarted = 1
elseif redis.call('HSETNX', KEYS[1], 'started', now / 1000) == 1 then
  redis.call('HSET', KEYS[1], 'run', 1)
end
redis.call('HSET', KEYS[1], 'spider', ARGV[1], 'arguments', ARGV[2])
return {restarted, tonumber(redis.call('HGET', KEYS[1], 'run'))}
"""


@dataclass(frozen=True)
class Lease:
    id: str
    data: bytes


class LeaseStore:
    """One crawl's frontier, leases and bookkeeping in Redis, for one worker."""

    def __init__(self, server: redis.Redis, keys: CrawlKeys, worker: str) -> None:
        self.server = server
        self.keys = keys
        self.worker = worker
        self._push = server.register_script(PUSH)
        self._lease = server.register_script(LEASE)
        self._ack = server.register_script(ACK)
        self._renew = server.register_script(RENEW)
        self._requeue = server.register_script(REQUEUE)
        self._finish = server.register_script(FINISH)
        self._open = server.register_script(OPEN)
        self._claim = server.register_script(CLAIM)

    def open(self, spider: str, arguments: dict[str, Any]) -> tuple[bool, int]:
        """Joins the crawl (starting a new run if the last one finished); returns (restarted, run)."""
        k = self.keys
        restarted, run = self._open(keys=[k.meta, *k.run_keys()],
                                    args=[spider, json.dumps(arguments, sort_keys=True, default=str)])
        self.server.sadd(REGISTRY_KEY, k.crawl_id)
        return bool(restarted), int(run)

    def push(self, data: bytes, score: float, fingerprint: str | None) -> bool:
        """Queues a request unless its fingerprint was seen; False for a duplicate."""
        return bool(self._push(keys=[self.keys.queue, self.keys.seen], args=[fingerprint or "", score, data]))

    def lease(self, lease_seconds: float) -> Lease | None:
        k = self.keys
        got = self._lease(keys=[k.queue, k.leases, k.lease_data, k.lease_info, k.lease_seq, k.counters],
                          args=[int(lease_seconds * 1000), self.worker])
        if not got:
            return None
        lease_id, data = got
        return Lease(lease_id.decode() if isinstance(lease_id, bytes) else str(lease_id), data)

    def ack(self, outcomes: list[tuple[str, str]]) -> int:
        """Acknowledges leases with their outcome ('done' or 'failed'); returns how many were still ours."""
        if not outcomes:
            return 0
        k = self.keys
        args: list[str] = [self.worker]
        for lease_id, outcome in outcomes:
            args += [lease_id, outcome]
        return int(self._ack(keys=[k.leases, k.lease_data, k.lease_info, k.counters, k.worker_done], args=args))

    def renew(self, lease_ids: list[str], lease_seconds: float, client: Any = None) -> Any:
        if not lease_ids:
            return 0
        return self._renew(keys=[self.keys.leases], args=[int(lease_seconds * 1000), *lease_ids], client=client)

    def reclaim_expired(self, limit: int = 500, client: Any = None) -> Any:
        """Puts leases whose deadline passed back into the queue; returns how many."""
        return self._requeue(keys=self._requeue_keys(), args=["expired", limit], client=client)

    def release(self, lease_ids: list[str]) -> int:
        """Gives leases back to the queue at once (a worker stopping before their work is done)."""
        if not lease_ids:
            return 0
        return int(self._requeue(keys=self._requeue_keys(), args=["release", *lease_ids]))

    def _requeue_keys(self) -> list[str]:
        k = self.keys
        return [k.leases, k.lease_data, k.lease_info, k.queue, k.counters]

    def pending(self) -> tuple[int, int]:
        """(queued, leased) across all workers."""
        pipe = self.server.pipeline(transaction=False)
        pipe.zcard(self.keys.queue)
        pipe.zcard(self.keys.leases)
        queued, leased = pipe.execute()
        return int(queued), int(leased)

    def finish(self) -> bool:
        """Marks the crawl finished if nothing is queued or leased anywhere."""
        k = self.keys
        return bool(self._finish(keys=[k.queue, k.leases, k.meta]))

    def claim_article(self, url_key: str, capture: str) -> bool:
        """True for the first capture whose article line is written for this URL in this run of the crawl.

        Asking again for the same capture (the reply was lost in a Redis restart) answers True again.
        """
        return bool(self._claim(keys=[self.keys.articles], args=[url_key, f"{self.worker} {capture}"]))

    def send_claim(self, url_key: str, capture: str) -> Any:
        """Sends the claim of `claim_article` without waiting for the answer; returns the connection.

        The pipeline writes the sidecar line right after this returns: the claim is already on its way
        (in the kernel's socket buffer, delivered even if this process is killed the next instant), so
        a worker killed after writing its line has always claimed it, and the only gap left is the few
        microseconds between this send and that write.
        """
        pool = self.server.connection_pool
        connection = pool.get_connection()
        try:
            connection.send_packed_command(connection.pack_command(
                "EVAL", CLAIM, 1, self.keys.articles, url_key, f"{self.worker} {capture}"))
        except BaseException:
            connection.disconnect()
            pool.release(connection)
            raise
        return connection

    def read_claim(self, connection: Any) -> bool:
        """The answer to `send_claim`."""
        try:
            return bool(connection.read_response())
        finally:
            self.server.connection_pool.release(connection)

    def heartbeat(self, info: dict[str, Any], client: Any = None) -> Any:
        target = client if client is not None else self.server
        return target.hset(self.keys.workers, self.worker, json.dumps({**info, "seen": time.time()}))
