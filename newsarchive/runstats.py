"""Extension: the run's outcome as JSON beside its WARC files, for a cron monitor to read.

Written at the end of every run as NEWSARCHIVE_DIR/<UTC date the run started>/<run name>.stats.json,
where the run name is `<prefix>-<start, to the second>-<host>-<pid>` like the run's WARC file names.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive.archive import Archive

logger = logging.getLogger(__name__)


def run_counts(stats: dict[str, Any]) -> dict[str, int]:
    """The figures a monitor watches, from Scrapy's stats (keys in the README)."""
    failed = sum(v for k, v in stats.items() if k.startswith("newsarchive/failed/") and isinstance(v, int))
    return {
        "fetched": stats.get("newsarchive/warc/responses", 0),
        "new": stats.get("newsarchive/recrawl/new", 0),
        "changed": stats.get("newsarchive/recrawl/changed", 0),
        "unchanged": stats.get("newsarchive/recrawl/unchanged", 0),
        "failed": failed + stats.get("newsarchive/extract_failed", 0),
        "skipped": stats.get("newsarchive/skipped/archived", 0),
        "articles": stats.get("newsarchive/articles", 0),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


class RunStats:
    """Writes `<run name>.stats.json` when the spider closes (after the WARC files are closed)."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("NEWSARCHIVE_ENABLED", True):
            raise NotConfigured
        self.crawler = crawler
        self.archive = Archive.for_crawler(crawler)
        self.started = datetime.now(UTC)
        host = socket.gethostname().split(".")[0] or "localhost"
        self.name = f"{self.archive.config.prefix}-{self.started:%Y%m%d%H%M%S}-{host}-{os.getpid()}"
        self.cpu_at_open = time.process_time()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunStats:
        return cls(crawler)

    @property
    def path(self) -> Path:
        return self.archive.config.directory / f"{self.started:%Y-%m-%d}" / f"{self.name}.stats.json"

    def spider_opened(self, spider: Spider) -> None:
        self.cpu_at_open = time.process_time()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.archive.close()  # idempotent: the WARC files are final before they are listed
        assert self.crawler.stats is not None
        # This process's CPU from the spider's opening on (start-up imports left out); the extraction
        # workers' is newsarchive/extract/worker_cpu_seconds.
        self.crawler.stats.set_value("newsarchive/cpu/crawl_process_seconds",
                                     round(time.process_time() - self.cpu_at_open, 3))
        stats = self.crawler.stats.get_stats()
        root = self.archive.config.directory
        document = {
            "run": self.name,
            "spider": spider.name,
            "started": _jsonable(self.started),
            "finished": _jsonable(datetime.now(UTC)),
            "finish_reason": reason,
            "counts": run_counts(stats),
            "warc_files": [p.relative_to(root).as_posix() for p in self.archive.warc.closed_files],
            "stats": {key: _jsonable(value) for key, value in sorted(stats.items())},
        }
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
        logger.info("Run stats written: %s %s", path, json.dumps(document["counts"]))
