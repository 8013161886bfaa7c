"""`newsarchive workers status`: what each shared crawl and each of its workers is doing, read from Redis."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

from newsarchive.redis_config import REGISTRY_KEY, CrawlKeys, connect

WORKER_GONE_SECONDS = 30.0  # no heartbeat for this long: the worker is shown as gone


@dataclass
class WorkerStatus:
    worker: str
    done: int
    leased: int
    started: float
    seen: float
    stopped: str | None
    pages_per_second: float
    state: str  # working, stopped (how), gone (no heartbeat: killed or cut off)


@dataclass
class CrawlStatus:
    crawl_id: str
    spider: str
    run: int
    started: float | None
    finished: float | None
    queued: int
    leased: int
    done: int
    failed: int
    skipped: int
    reclaimed: int
    released: int
    seen: int
    articles: int
    workers: list[WorkerStatus] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _float(value: Any) -> float | None:
    return float(_text(value)) if value is not None else None


def read_crawl(client: redis.Redis, crawl_id: str, now: float | None = None) -> CrawlStatus:
    keys = CrawlKeys(crawl_id)
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(keys.meta)
    pipe.zcard(keys.queue)
    pipe.zcard(keys.leases)
    pipe.hgetall(keys.counters)
    pipe.scard(keys.seen)
    pipe.hlen(keys.articles)
    pipe.hgetall(keys.workers)
    pipe.hgetall(keys.worker_done)
    pipe.hgetall(keys.stats)
    meta, queued, leased, counters, seen, articles, workers, worker_done, stats = pipe.execute()
    meta = {_text(k): _text(v) for k, v in meta.items()}
    counts = {_text(k): int(v) for k, v in counters.items()}
    done_by = {_text(k): int(v) for k, v in worker_done.items()}
    now = time.time() if now is None else now
    status = CrawlStatus(
        crawl_id=crawl_id, spider=meta.get("spider", "?"), run=int(meta.get("run", 0)),
        started=_float(meta.get("started")), finished=_float(meta.get("finished")),
        queued=int(queued), leased=int(leased), done=counts.get("done", 0), failed=counts.get("failed", 0),
        skipped=counts.get("skipped", 0),
        reclaimed=counts.get("reclaimed", 0), released=counts.get("released", 0), seen=int(seen),
        articles=int(articles), stats={_text(k): int(v) for k, v in stats.items()},
    )
    for name, raw in sorted(workers.items()):
        worker, info = _text(name), json.loads(raw)
        started, last = float(info.get("started", now)), float(info.get("seen", now))
        done = done_by.get(worker, 0)
        stopped = info.get("stopped")
        state = f"stopped ({stopped})" if stopped else ("gone" if now - last > WORKER_GONE_SECONDS else "working")
        status.workers.append(WorkerStatus(
            worker=worker, done=done, leased=int(info.get("leased", 0)), started=started, seen=last,
            stopped=stopped, pages_per_second=done / max(last - started, 1e-3), state=state))
    return status


def read_status(client: redis.Redis, crawl_ids: list[str] | None = None) -> list[CrawlStatus]:
    """Every crawl this server knows (or the ones named), newest first."""
    ids = crawl_ids or sorted(_text(c) for c in client.smembers(REGISTRY_KEY))
    crawls = [read_crawl(client, crawl_id) for crawl_id in ids]
    return sorted(crawls, key=lambda c: c.started or 0.0, reverse=True)


def _when(moment: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(moment)) + "Z" if moment else "-"


def format_status(crawls: list[CrawlStatus]) -> str:
    if not crawls:
        return "No shared crawls on this Redis server."
    lines = []
    for c in crawls:
        state = f"finished {_when(c.finished)}" if c.finished else "running"
        lines.append(f"crawl {c.crawl_id} ({c.spider}, run {c.run}, started {_when(c.started)}, {state})")
        lines.append(f"  queued {c.queued}  leased {c.leased}  done {c.done}  failed {c.failed}  skipped {c.skipped}  "
                     f"reclaimed {c.reclaimed}  released {c.released}  seen {c.seen}  articles {c.articles}")
        for w in c.workers:
            lines.append(f"  worker {w.worker:<28} {w.state:<20} done {w.done:>7}  leased {w.leased:>4}  "
                         f"{w.pages_per_second:8.2f} pages/s")
    return "\n".join(lines)


def workers_status(url: str, crawl_ids: list[str] | None = None, as_json: bool = False) -> str:
    """The text `newsarchive workers status` prints (JSON with as_json)."""
    crawls = read_status(connect(url), crawl_ids)
    if as_json:
        return json.dumps([asdict(c) for c in crawls], indent=2)
    return format_status(crawls)
