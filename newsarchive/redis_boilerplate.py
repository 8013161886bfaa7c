"""Site-level boilerplate statistics shared by all workers of a crawl, in Redis.

The same counting as `newsarchive.boilerplate.BlockStats` (distinct documents per site and per
block), so that a widget seen on pages fetched by different workers is recognised as soon as the
site has enough pages in total, not per worker. Per site, a SET of document keys and a HASH of block
key -> documents; observing a page is one Lua script (atomic: a document counts once, whichever
worker sees it), filtering one pipelined read. They outlive a run of the crawl, like the SQLite
state does, so each cron run starts from what earlier runs learned. While Redis is away pages are
neither counted nor filtered (never removed on missing statistics).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import redis

from newsarchive.boilerplate import BlockStats, block_key, doc_key
from newsarchive.redis_config import CrawlKeys
from newsarchive.redis_link import RedisLink, RedisUnavailable

logger = logging.getLogger(__name__)

# KEYS: site docs SET, site blocks HASH   ARGV: document key, block keys…  -> 1 if the document is new
OBSERVE = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
for i = 2, #ARGV do redis.call('HINCRBY', KEYS[2], ARGV[i], 1) end
return 1
"""


class RedisBlockStats(BlockStats):
    """BlockStats whose counts live in Redis (see the module docstring)."""

    def __init__(self, server: redis.Redis, keys: CrawlKeys, link: RedisLink, like: BlockStats) -> None:
        super().__init__(like.min_docs, like.min_fraction, like.min_site_docs)
        self.server = server
        self.keys = keys
        self.link = link
        self._observe = server.register_script(OBSERVE)

    def _site_keys(self, site: str) -> tuple[str, str]:
        return self.keys.boilerplate(site, "docs"), self.keys.boilerplate(site, "blocks")

    def observe(self, site: str, doc_id: str, blocks: Iterable[str]) -> bool:
        block_keys = sorted({k for k in map(block_key, blocks) if k})
        try:
            return bool(self.link.call(self._observe, keys=list(self._site_keys(site)),
                                       args=[doc_key(doc_id), *block_keys]))
        except RedisUnavailable:
            return False

    def site_docs(self, site: str) -> int:
        try:
            return int(self.link.call(self.server.scard, self._site_keys(site)[0]))
        except RedisUnavailable:
            return 0

    def doc_frequency(self, site: str, block: str) -> int:
        key = block_key(block)
        if key is None:
            return 0
        try:
            return int(self.link.call(self.server.hget, self._site_keys(site)[1], key) or 0)
        except RedisUnavailable:
            return 0

    def filter(self, site: str, blocks: Sequence[str]) -> list[str]:
        """One round trip: the site's document count and the frequencies of these blocks."""
        docs_key, blocks_key = self._site_keys(site)
        keys = [block_key(b) for b in blocks]
        pipe = self.server.pipeline(transaction=False)
        pipe.scard(docs_key)
        pipe.hmget(blocks_key, [k or "-" for k in keys] or ["-"])
        try:
            n_docs, freqs = self.link.call(pipe.execute)
        except RedisUnavailable:
            return list(blocks)
        if int(n_docs) < self.min_site_docs:
            return list(blocks)
        kept = []
        for block, key, freq in zip(blocks, keys, freqs, strict=False):
            count = int(freq or 0) if key else 0
            if not (count >= self.min_docs and count >= self.min_fraction * int(n_docs)):
                kept.append(block)
        return kept

    def sites(self) -> list[str]:
        return []  # not enumerated from Redis; `workers status` does not need them
