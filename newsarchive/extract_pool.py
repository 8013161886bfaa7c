"""Extraction off the reactor: a pool of worker processes, bounded, with timeouts and crash isolation.

A page whose extraction hangs past the timeout fails alone: its worker is killed and replaced, and
the pages queued behind it go to the other workers. A page whose worker dies under it is tried again
in a process of its own, so that only a page that breaks its own process too is counted as failed.

At most `max_in_flight` pages are in the workers' hands; pages beyond that wait in `extract()`, and
the caller (the pipeline) pauses the downloader when too many wait: backpressure, no unbounded queue.

Pages travel to the workers as the bytes the server sent plus the encoding Scrapy chose: decoding
happens in the worker, and a bytes object pickles with a copy where a str would be re-encoded.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

from newsarchive.extraction import ExtractedArticle, ExtractionOptions, extract_article, parse_html
from newsarchive.items import page_text
from newsarchive.pagetype import next_page_links
from newsarchive.worker_process import WorkerProcess, serve

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
    """A crawl killed with SIGKILL closes its workers' task pipes, but a worker stuck on a page never
    reads that: each goes when the crawl is gone."""
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


def _serve_extractions(tasks: Connection, outcomes: Connection, options: ExtractionOptions,
                       faults: tuple[tuple[str, str], ...], crawl_pid: int) -> None:
    """A worker process's life: set up, then extract every page it is sent."""
    _init_worker(options, faults, crawl_pid)
    serve(tasks, outcomes, _extract_in_worker)


class _Task:
    """A page handed to a worker: its arguments, the future its caller awaits, where it went."""

    __slots__ = ("args", "future", "task_id", "worker")

    def __init__(self, task_id: int, args: tuple[bytes, str, str, tuple[str, ...]], future: asyncio.Future) -> None:
        self.task_id, self.args, self.future = task_id, args, future
        self.worker: WorkerProcess | None = None

    @property
    def url(self) -> str:
        return self.args[2]


#: What a task's future gets when its worker died while working on it: try it again, alone.
_ALONE = object()


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
        self._processes: list[WorkerProcess] = []
        self._tasks: dict[int, _Task] = {}
        #: worker -> (the task it is on, the call that fails that task at its timeout)
        self._watched: dict[WorkerProcess, tuple[int, asyncio.TimerHandle]] = {}
        self._task_ids = itertools.count()
        self._closing = False
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
        # Every page in flight is sent to a worker at once (to the one with the fewest): a worker that
        # finishes a page finds the next one in its pipe, without waiting for the reactor (busy with a
        # burst of downloads, it would keep the workers idle). Its timeout clock starts when the worker
        # reaches it (_watch).
        task = _Task(next(self._task_ids), (body, encoding, url, drop_selectors),
                     asyncio.get_running_loop().create_future())
        self._tasks[task.task_id] = task
        try:
            self._send(task)
            outcome = await task.future
        finally:
            del self._tasks[task.task_id]
        if outcome is _ALONE:
            return await self._extract_alone(body, encoding, url, drop_selectors)
        clock, result = outcome
        self._seen(clock)
        return result

    def _send(self, task: _Task) -> None:
        if self._closing:
            raise ExtractionFailed("the extraction workers were stopped")
        if len(self._processes) < self.workers:
            self.start()
        task.worker = min(self._processes, key=lambda worker: len(worker.sent))
        task.worker.send(task.task_id, task.args)
        self._watch(task.worker)

    def _outcome(self, worker: WorkerProcess, task_id: int, ok: bool, value: Any) -> None:
        self._watch(worker)
        task = self._tasks.get(task_id)
        if task is None or task.future.done():  # failed meanwhile
            return
        if ok:
            task.future.set_result(value)
        else:
            task.future.set_exception(value)

    def _watch(self, worker: WorkerProcess) -> None:
        """Starts the timeout clock of the page a worker is now on (the first it has not answered):
        a page's time in a worker's pipe, behind others, does not count."""
        head = worker.sent[0] if worker.sent and not worker.closed else None
        watched = self._watched.get(worker)
        if watched is not None and watched[0] == head:
            return
        if watched is not None:
            watched[1].cancel()
            del self._watched[worker]
        if head is not None:
            clock = asyncio.get_running_loop().call_later(self.timeout, self._stuck, worker, head)
            self._watched[worker] = (head, clock)

    def _stuck(self, worker: WorkerProcess, task_id: int) -> None:
        """A page took longer than the timeout: it fails, and its worker is killed and replaced (the
        pages queued behind it go to the others)."""
        self._watched.pop(worker, None)
        if worker.closed or not worker.sent or worker.sent[0] != task_id:
            return
        task = self._tasks.get(task_id)
        url = task.url if task is not None else "a page"
        logger.warning("Restarting an extraction worker: extraction of %s took over %gs", url, self.timeout)
        if task is not None and not task.future.done():
            task.future.set_exception(ExtractionFailed(f"timed out after {self.timeout:g}s"))
        worker.kill()

    def _exited(self, worker: WorkerProcess) -> None:
        """A worker's process ended: a new one takes its place; the page it was working on is tried
        again alone (unless it was killed for that page's timeout), the pages behind it go elsewhere."""
        if worker in self._processes:
            self._processes.remove(worker)
        watched = self._watched.pop(worker, None)
        if watched is not None:
            watched[1].cancel()
        orphans = [self._tasks[i] for i in worker.sent if i in self._tasks and not self._tasks[i].future.done()]
        if not worker.killed:
            logger.warning("Restarting an extraction worker: it died (exit code %s) while extracting %s",
                           worker.process.exitcode, orphans[0].url if orphans else "no page")
            if orphans:
                orphans.pop(0).future.set_result(_ALONE)
        for task in orphans:
            self._send(task)

    async def _extract_alone(
        self, body: bytes, encoding: str, url: str, drop_selectors: tuple[str, ...]
    ) -> PageExtraction:
        """A page whose worker died under it, tried again in a process of its own: if that process
        dies too, this page is the culprit; if not, something else killed the first one."""
        async with self._isolation:
            outcome: asyncio.Future = asyncio.get_running_loop().create_future()

            def answered(_worker: WorkerProcess, _task_id: int, ok: bool, value: Any) -> None:
                if not outcome.done():
                    outcome.set_result((ok, value))

            def died(_worker: WorkerProcess) -> None:
                if not outcome.done():
                    outcome.set_result(None)

            worker = self._new_process(answered, died)
            try:
                worker.send(0, (body, encoding, url, drop_selectors))
                answer = await asyncio.wait_for(outcome, self.timeout)
            except TimeoutError:
                raise ExtractionFailed(f"timed out after {self.timeout:g}s") from None
            finally:
                worker.close(kill=True)
        if answer is None:
            raise ExtractionFailed("its worker process died")
        ok, value = answer
        if not ok:
            raise value
        clock, result = value
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
        while len(self._processes) < self.workers:
            self._processes.append(self._new_process(self._outcome, self._exited))

    def _new_process(self, on_outcome: Any, on_exit: Any) -> WorkerProcess:
        context = multiprocessing.get_context("forkserver")
        # The fork server imports the extractor once; workers forked from it share those pages
        # (less memory, counted once in PSS) and a replaced worker is ready at once.
        context.set_forkserver_preload(["newsarchive.extract_pool", "trafilatura"])
        return WorkerProcess(context, _serve_extractions, (self.options, self.faults, os.getpid()),
                             on_outcome, on_exit)

    def close(self) -> None:
        self._closing = True
        processes, self._processes = self._processes, []
        for _, clock in self._watched.values():
            clock.cancel()
        self._watched.clear()
        for worker in processes:
            # a worker still holding pages would finish them for nobody (their futures fail below)
            worker.close(kill=bool(worker.sent))
        for task in self._tasks.values():  # none at a crawl's normal end
            if not task.future.done():
                task.future.set_exception(ExtractionFailed("the extraction workers were stopped"))
