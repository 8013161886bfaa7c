"""NEWSARCHIVE_REDIS_* settings, the crawl's name, its Redis key names and the client.

Several `scrapy crawl` processes, on one machine or many, that name the same Redis server and the
same crawl id are workers of one crawl. Everything of a crawl lives under one key prefix with a
hash tag (`newsarchive:{ID}:…`), so that a crawl also fits in one slot of a Redis Cluster.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from scrapy.settings import BaseSettings

from newsarchive.config import SettingError, float_setting

CRAWL_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
REGISTRY_KEY = "newsarchive:crawls"  # every crawl id ever started on this server (for `workers status`)



@dataclass(frozen=True)
class RedisConfig:
    """How a worker reaches Redis and how long it waits for others."""

    url: str
    crawl_id: str  # empty: derived from the spider and its arguments (see default_crawl_id)
    lease_seconds: float
    idle_seconds: float
    retry_max_seconds: float

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RedisConfig:
        url = str(settings.get("NEWSARCHIVE_REDIS_URL") or "").strip()
        if url and not url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingError(f"NEWSARCHIVE_REDIS_URL must start with redis://, rediss:// or unix://, got {url!r}")
        crawl_id = str(settings.get("NEWSARCHIVE_CRAWL_ID") or "").strip()
        if crawl_id and not CRAWL_ID_PATTERN.match(crawl_id):
            raise SettingError(f"NEWSARCHIVE_CRAWL_ID must be 1-100 letters, digits or _.:-, got {crawl_id!r}")
        return cls(
            url=url,
            crawl_id=crawl_id,
            lease_seconds=float_setting(settings, "NEWSARCHIVE_REDIS_LEASE_SECONDS", 120.0, minimum=1.0),
            idle_seconds=float_setting(settings, "NEWSARCHIVE_REDIS_IDLE_SECONDS", 30.0, minimum=0.0),
            retry_max_seconds=float_setting(settings, "NEWSARCHIVE_REDIS_RETRY_MAX_SECONDS", 30.0, minimum=0.1),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.url)


def connect(url: str, timeout: float = 5.0) -> redis.Redis:
    """A client that fails fast (no hidden retries): our own backoff decides when to try again.

    redis-py parses passwords (`redis://:PASSWORD@host`, `redis://USER:PASSWORD@host`) and TLS
    (`rediss://…?ssl_cert_reqs=required&ssl_ca_certs=/path/ca.pem`) from the URL.
    """
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=30,
    )


def safe_url(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password:
        return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
    return url


def default_crawl_id(spider_name: str, arguments: dict[str, Any]) -> str:
    """`SPIDER-HASH`: workers started with the same spider and `-a` arguments join the same crawl."""
    canonical = json.dumps({k: str(v) for k, v in sorted(arguments.items())}, sort_keys=True)
    return f"{spider_name}-{hashlib.sha1(canonical.encode()).hexdigest()[:10]}"


def new_worker_id() -> str:
    """Unique per process and start: host, pid and a few random characters."""
    host = socket.gethostname().split(".")[0] or "localhost"
    return f"{host}-{os.getpid()}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class CrawlKeys:
    """The Redis keys of one crawl."""

    crawl_id: str

    def _key(self, name: str) -> str:
        return f"newsarchive:{{{self.crawl_id}}}:{name}"

    @property
    def queue(self) -> str:  # ZSET serialized request -> -priority (scrapy-redis PriorityQueue)
        return self._key("queue")

    @property
    def seen(self) -> str:  # SET of request fingerprints (scrapy-redis RFPDupeFilter)
        return self._key("seen")

    @property
    def leases(self) -> str:  # ZSET lease id -> deadline (ms, Redis server clock)
        return self._key("leases")

    @property
    def lease_data(self) -> str:  # HASH lease id -> serialized request
        return self._key("lease:data")

    @property
    def lease_info(self) -> str:  # HASH lease id -> "score worker"
        return self._key("lease:info")

    @property
    def lease_seq(self) -> str:
        return self._key("lease:seq")

    @property
    def counters(self) -> str:  # HASH leased, done, failed, reclaimed, released, late_acks
        return self._key("counters")

    @property
    def workers(self) -> str:  # HASH worker -> JSON heartbeat
        return self._key("workers")

    @property
    def worker_done(self) -> str:  # HASH worker -> requests acknowledged
        return self._key("workers:done")

    @property
    def articles(self) -> str:  # HASH sha1(url) -> worker that wrote its sidecar line
        return self._key("articles")

    @property
    def stats(self) -> str:  # HASH Scrapy stats summed over workers
        return self._key("stats")

    @property
    def meta(self) -> str:  # HASH spider, arguments, run, started, finished
        return self._key("meta")

    def state(self, name: str) -> str:  # the crawl state (issue 4's CrawlState), kept across runs
        return self._key(f"state:{name}")

    def boilerplate(self, site: str, part: str) -> str:  # per site: "docs" SET, "blocks" HASH (kept across runs)
        return self._key(f"boilerplate:{site}:{part}")

    def run_keys(self) -> list[str]:
        """Everything a new run of the crawl starts without (not the meta)."""
        return [self.queue, self.seen, self.leases, self.lease_data, self.lease_info, self.counters,
                self.workers, self.worker_done, self.articles, self.stats]
