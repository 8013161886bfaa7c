"""Extension: Python's cyclic garbage collector set for a long crawl, and its cost counted.

With Python's defaults, the crawl process spent about 0.7 ms a page in the collector (1.4 s over
2,000 pages; README, Throughput):
- every full collection walked the ~130,000 objects that start-up made (modules, settings, Scrapy's
  components), which never become garbage: about 150 ms each;
- a page's objects (request, response, Deferreds) live for the seconds it takes to download and
  archive it, long enough for the first generation's collections (every 700 objects) to promote them,
  so the middle generation's collections walked them again before they died.

So, when the spider opens, the objects made so far are frozen (`gc.freeze()`: kept out of every
collection) and the first generation's threshold is raised (NEWSARCHIVE_GC_THRESHOLD): most of a
page's objects are then freed by reference counting before a collection sees them, and garbage in
cycles waits for at most that many more objects. Both are undone when the spider closes.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from newsarchive.config import SettingError

DEFAULT_THRESHOLD = 50_000

#: Crawls of this process that have tuned the collector and not yet closed (all share one collector).
_open_crawls: list[CollectorTuning] = []
_python_thresholds: tuple[int, int, int] | None = None


class CollectorTuning:
    """Freezes start-up's objects and raises the first generation's threshold while a spider runs;
    counts `newsarchive/gc/collections` and `newsarchive/gc/seconds` (this process, spider open to
    close)."""

    def __init__(self, threshold: int, stats: StatsCollector) -> None:
        self.threshold = threshold
        self.stats = stats
        self.collections = 0
        self.seconds = 0.0
        self._started = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CollectorTuning:
        raw = crawler.settings.get("NEWSARCHIVE_GC_THRESHOLD", DEFAULT_THRESHOLD)
        try:
            threshold = int(raw)
        except (TypeError, ValueError):
            raise SettingError(f"NEWSARCHIVE_GC_THRESHOLD must be a whole number (0: Python's defaults), "
                               f"got {raw!r}") from None
        if threshold < 0:
            raise SettingError(f"NEWSARCHIVE_GC_THRESHOLD must be 0 or more, got {threshold}")
        if threshold == 0:
            raise NotConfigured
        assert crawler.stats is not None
        tuning = cls(threshold, crawler.stats)
        crawler.signals.connect(tuning.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(tuning.spider_closed, signal=signals.spider_closed)
        return tuning

    def spider_opened(self, spider: Spider) -> None:
        global _python_thresholds
        if not _open_crawls:  # a second crawl in the same process finds the collector already set
            _python_thresholds = gc.get_threshold()
            gc.collect()  # what start-up left as garbage goes now, not into the frozen set
            gc.freeze()
            gc.set_threshold(max(self.threshold, _python_thresholds[0]), *_python_thresholds[1:])
        _open_crawls.append(self)
        gc.callbacks.append(self._timed)

    def spider_closed(self, spider: Spider) -> None:
        if self._timed in gc.callbacks:
            gc.callbacks.remove(self._timed)
        if self in _open_crawls:
            _open_crawls.remove(self)
            if not _open_crawls and _python_thresholds is not None:
                gc.set_threshold(*_python_thresholds)
                gc.unfreeze()
        self.stats.set_value("newsarchive/gc/collections", self.collections)
        self.stats.set_value("newsarchive/gc/seconds", round(self.seconds, 3))

    def _timed(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.collections += 1
            self.seconds += time.perf_counter() - self._started
