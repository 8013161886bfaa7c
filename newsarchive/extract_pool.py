"""Extraction off the reactor: a pool of worker processes, bounded, with timeouts and crash isolation.

A page whose extraction hangs past the timeout, or that kills its worker, fails alone: the pool is
replaced, and the pages that were in it when it broke are tried again one at a time, each in a process
of its own, so that only the page that breaks its own process too is counted as failed.

At most `max_in_flight` pages are in the workers' hands; pages beyond that wait in `extract()`, and
the caller (the pipeline) pauses the downloader when too many wait: backpressure, no unbounded queue.

Pages travel to the workers as the bytes the server sent plus the encoding Scrapy chose: decoding
happens in the worker, and a bytes object pickles with a copy where a str would be re-encoded.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import NamedTuple

from newsarchive.extraction import ExtractedArticle, ExtractionOptions, extract_article, parse_html
from newsarchive.items import page_text
from newsarchive.pagetype import next_page_links

logger = logging.getLogger(__name__)

FAULT_KINDS = ("hang", "crash", "slow")
#: Workers run this much nicer than the crawl process. Measured, four alternating pairs of 2,000-page
#: crawls: workers waiting for pages 9-13 % of the crawl instead of 15-16 %, cores 93 % used instead of 91 %.
WORKER_NICENESS = 5

_worker_options: ExtractionOptions | None = None
_worker_faults: tuple[tuple[str, str], ...] = ()
#: In a worker: when it last finished a page, and the seconds it has spent waiting for pages so far.
_worker_free_since: float | None = None
_worker_idle = 0.0


class ExtractionFailed(Exception):
    """Extraction of one page did not finish: it timed out or crashed its worker."""


def _init_worker(options: ExtractionOptions, faults: tuple[tuple[str, str], ...], crawl_pid: int) -> None:
    global _worker_options, _worker_faults, _worker_free_since
    _worker_options, _worker_faults = options, faults
    _worker_free_since = time.monotonic()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the crawl, which then stops us
    # The crawl process must run for a page to reach a worker: when the cores are full, it goes first.
    os.nice(WORKER_NICENESS)
    threading.Thread(target=_exit_with, args=(crawl_pid,), name="crawl-watch", daemon=True).start()


def _exit_with(crawl_pid: int) -> None:
    """A crawl killed with SIGKILL cannot stop its workers, and they would wait for work forever
    (a worker holds both ends of its queue, so it never reads EOF): each goes when the crawl is gone."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(crawl_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # the pid was reused by another user's process: the crawl is gone
            os._exit(0)


def _ready() -> int:
    return os.getpid()


def _inject_fault(html: str) -> None:
    """The NEWSARCHIVE_TEST_EXTRACT_FAULTS testing hook: misbehave on pages holding a marker."""
    for kind, marker in _worker_faults:
        if marker in html:
            if kind == "crash":
                os._exit(70)
            if kind == "hang":
                time.sleep(3600)
            if kind == "slow":
                time.sleep(0.3)


class WorkerClock(NamedTuple):
    """A worker's totals when it returns a page: CPU seconds it used (start-up included), and wall
    seconds it spent between pages, waiting for the next one (the crawl process did not keep it fed)."""

    pid: int
    cpu_seconds: float
    idle_seconds: float


class PageExtraction(NamedTuple):
    """What a worker reads from one page: its article, and the links that say "next page"."""

    article: ExtractedArticle | None
    next_links: tuple[str, ...] = ()


def extract_page(body: bytes, encoding: str, url: str, options: ExtractionOptions | None = None) -> PageExtraction:
    """One page, parsed once: its next-page links (read first: cleaning removes pagination) and its
    article. What a worker does for each page, and what the benchmark measures as extraction."""
    html = page_text(body, encoding)
    tree = parse_html(html)
    if tree is None:
        return PageExtraction(None)
    next_links = next_page_links(tree, url)
    return PageExtraction(extract_article(html, url, options, tree=tree), next_links)


def _extract_in_worker(
    body: bytes, encoding: str, url: str, drop_selectors: tuple[str, ...] = ()
) -> tuple[WorkerClock, PageExtraction]:
    """The worker's clock (CPU and waiting so far), and the page's extraction."""
    global _worker_free_since, _worker_idle
    if _worker_free_since is not None:
        _worker_idle += time.monotonic() - _worker_free_since
    try:
        if _worker_faults:
            _inject_fault(page_text(body, encoding))
        options = _worker_options
        if drop_selectors:  # a site's own rules, on top of NEWSARCHIVE_EXTRACT_DROP_SELECTORS
            base = options or ExtractionOptions()
            options = replace(base, drop_selectors=base.drop_selectors + drop_selectors)
        result = extract_page(body, encoding, url, options)
    finally:  # a page that raised was work too, not waiting
        _worker_free_since = time.monotonic()
    return WorkerClock(os.getpid(), time.process_time(), _worker_idle), result


def _kill(executor: ProcessPoolExecutor) -> None:
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.kill()
    executor.shutdown(wait=False, cancel_futures=True)


class ExtractionPool:
    """`await pool.extract(body, encoding, url)` runs extract_page in a worker process."""

    def __init__(self, workers: int, timeout: float, max_in_flight: int, options: ExtractionOptions,
                 faults: tuple[tuple[str, str], ...] = ()) -> None:
        self.workers = max(1, workers)
        self.timeout = timeout
        self.options = options
        self.faults = faults
        self.max_in_flight = max_in_flight
        self._slots = asyncio.Semaphore(max_in_flight)
        self._isolation = asyncio.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._generation = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.waiting = 0
        self.peak_waiting = 0
        self.worker_pids: set[int] = set()
        #: pid -> the worker's clock when it last returned a page
        self.worker_clocks: dict[int, WorkerClock] = {}

    async def extract(
        self, body: bytes, encoding: str, url: str, drop_selectors: tuple[str, ...] = ()
    ) -> PageExtraction:
        self.waiting += 1
        self.peak_waiting = max(self.peak_waiting, self.waiting)
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._extract_once(body, encoding, url, drop_selectors)
        finally:
            self.in_flight -= 1
            self._slots.release()

    async def _extract_once(
        self, body: bytes, encoding: str, url: str, drop_selectors: tuple[str, ...]
    ) -> PageExtraction:
        # Every page in flight is in the executor: a worker that finishes a page finds the next one
        # queued, without waiting for the reactor (busy with a burst of downloads, it would keep the
        # workers idle). A page's timeout clock so also runs while it waits behind the few others in
        # flight: a fraction of a second, against a timeout of a minute by default.
        generation, executor = self._generation, self._ensure_executor()
        try:  # submit() itself raises BrokenProcessPool when a worker died before anyone noticed
            future = asyncio.wrap_future(executor.submit(_extract_in_worker, body, encoding, url, drop_selectors))
            clock, result = await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            self._replace(generation, f"extraction of {url} took over {self.timeout:g}s")
            raise ExtractionFailed(f"timed out after {self.timeout:g}s") from None
        except BrokenProcessPool:
            self._replace(generation, f"a worker died while extracting ({url} among others)")
            clock = None
        if clock is None:
            return await self._extract_alone(body, encoding, url, drop_selectors)
        self._seen(clock)
        return result

    async def _extract_alone(
        self, body: bytes, encoding: str, url: str, drop_selectors: tuple[str, ...]
    ) -> PageExtraction:
        """A page that was in a pool when it broke, tried again in a process of its own: if that
        process dies too, this page is the culprit; if not, it was an innocent bystander."""
        async with self._isolation:
            executor = self._new_executor(1)
            try:
                future = asyncio.wrap_future(executor.submit(_extract_in_worker, body, encoding, url, drop_selectors))
                clock, result = await asyncio.wait_for(future, self.timeout)
            except TimeoutError:
                raise ExtractionFailed(f"timed out after {self.timeout:g}s") from None
            except BrokenProcessPool:
                raise ExtractionFailed("its worker process died") from None
            finally:
                _kill(executor)
        self._seen(clock)
        return result

    def _seen(self, clock: WorkerClock) -> None:
        self.worker_pids.add(clock.pid)
        earlier = self.worker_clocks.get(clock.pid, clock)  # pages may come back out of order
        self.worker_clocks[clock.pid] = max(clock, earlier, key=lambda c: c.cpu_seconds)

    @property
    def cpu_seconds(self) -> float:
        """CPU the workers spent, as of the last page each returned (their start-up included)."""
        return sum(clock.cpu_seconds for clock in self.worker_clocks.values())

    @property
    def idle_seconds(self) -> float:
        """Time the workers spent waiting for their next page, as of the last page each returned."""
        return sum(clock.idle_seconds for clock in self.worker_clocks.values())

    def start(self) -> None:
        """Starts the workers now (they import the extractor while the first pages download)."""
        executor = self._ensure_executor()
        for _ in range(self.workers):
            executor.submit(_ready)

    def _ensure_executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = self._new_executor(self.workers)
        return self._executor

    def _new_executor(self, workers: int) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        # The fork server imports the extractor once; workers forked from it share those pages
        # (less memory, counted once in PSS) and a replaced worker is ready at once.
        context.set_forkserver_preload(["newsarchive.extract_pool", "trafilatura"])
        return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                                   initargs=(self.options, self.faults, os.getpid()))

    def _replace(self, generation: int, why: str) -> None:
        """Kills the pool (once per generation, however many tasks notice) so that a new one starts."""
        if generation != self._generation or self._executor is None:
            return
        logger.warning("Restarting extraction workers: %s", why)
        executor, self._executor = self._executor, None
        self._generation += 1
        _kill(executor)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
