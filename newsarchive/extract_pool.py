"""Extraction off the reactor: a pool of worker processes, bounded, with timeouts and crash isolation.

A page whose extraction hangs past the timeout, or that kills its worker, fails alone: the pool is
replaced and the other pages in flight at that moment are tried once more on the new pool (a page that
breaks a pool twice is the culprit). The number of pages in flight is bounded, so when the workers are
slower than the downloader, `extract()` waits, the item pipeline stalls, and Scrapy's scraper slot
stops the engine from fetching more: backpressure instead of an unbounded queue.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from newsarchive.extraction import ExtractedArticle, ExtractionOptions, extract_article

logger = logging.getLogger(__name__)

_worker_options: ExtractionOptions | None = None


class ExtractionFailed(Exception):
    """Extraction of one page did not finish: it timed out or crashed its worker."""


def _init_worker(options: ExtractionOptions) -> None:
    global _worker_options
    _worker_options = options
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the crawl, which then stops us


def _extract_in_worker(
    html: str, url: str, drop_selectors: tuple[str, ...] = ()
) -> tuple[int, ExtractedArticle | None]:
    options = _worker_options
    if drop_selectors:  # a site's own rules, on top of NEWSARCHIVE_EXTRACT_DROP_SELECTORS
        base = options or ExtractionOptions()
        options = replace(base, drop_selectors=base.drop_selectors + drop_selectors)
    return os.getpid(), extract_article(html, url, options)


class ExtractionPool:
    """`await pool.extract(html, url)` runs extract_article in a worker process."""

    def __init__(self, workers: int, timeout: float, max_in_flight: int, options: ExtractionOptions) -> None:
        self.workers = max(1, workers)
        self.timeout = timeout
        self.options = options
        self.max_in_flight = max_in_flight
        self._slots = asyncio.Semaphore(max_in_flight)
        self._executor: ProcessPoolExecutor | None = None
        self._generation = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.worker_pids: set[int] = set()

    async def extract(self, html: str, url: str, drop_selectors: tuple[str, ...] = ()) -> ExtractedArticle | None:
        async with self._slots:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                return await self._extract_retrying(html, url, drop_selectors)
            finally:
                self.in_flight -= 1

    async def _extract_retrying(self, html: str, url: str, drop_selectors: tuple[str, ...]) -> ExtractedArticle | None:
        for attempt in (1, 2):
            generation, executor = self._generation, self._ensure_executor()
            future = asyncio.wrap_future(executor.submit(_extract_in_worker, html, url, drop_selectors))
            try:
                pid, article = await asyncio.wait_for(future, self.timeout)
            except TimeoutError:
                self._replace(generation, f"extraction of {url} took over {self.timeout:g}s")
                raise ExtractionFailed(f"timed out after {self.timeout:g}s") from None
            except BrokenProcessPool:
                self._replace(generation, f"a worker died while extracting ({url} among others)")
                if attempt == 2:
                    raise ExtractionFailed("its worker process died") from None
                continue
            self.worker_pids.add(pid)
            return article
        raise AssertionError("unreachable")

    def _ensure_executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=_init_worker,
                initargs=(self.options,),
            )
        return self._executor

    def _replace(self, generation: int, why: str) -> None:
        """Kills the pool (once per generation, however many tasks notice) so that a new one starts."""
        if generation != self._generation or self._executor is None:
            return
        logger.warning("Restarting extraction workers: %s", why)
        executor, self._executor = self._executor, None
        self._generation += 1
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            process.kill()
        executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
