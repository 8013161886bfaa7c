"""A worker process fed through its own pipes by the event loop: real processes, real pipes."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from typing import Any

from newsarchive.worker_process import PIPE_BYTES, WorkerProcess, serve


def _measure(data: bytes, pause: float) -> int:
    time.sleep(pause)
    if data == b"die":
        os._exit(3)
    if data == b"raise":
        raise ValueError("bad page")
    return len(data)


def _serve_measure(tasks: Any, outcomes: Any) -> None:
    serve(tasks, outcomes, _measure)


async def _run(tasks: list[tuple[bytes, float]], answers: int) -> tuple[list[tuple[int, bool, Any]], list[int] | None]:
    """Sends the tasks, waits for `answers` outcomes or the worker's end; (outcomes, ids unanswered at
    its end, or None if it did not end)."""
    outcomes: list[tuple[int, bool, Any]] = []
    unanswered: list[int] | None = None
    finished = asyncio.Event()

    def on_outcome(worker: WorkerProcess, task_id: int, ok: bool, value: Any) -> None:
        outcomes.append((task_id, ok, value if ok else repr(value)))
        if len(outcomes) == answers:
            finished.set()

    def on_exit(worker: WorkerProcess) -> None:
        nonlocal unanswered
        unanswered = list(worker.sent)
        finished.set()

    worker = WorkerProcess(multiprocessing.get_context("fork"), _serve_measure, (), on_outcome, on_exit)
    for task_id, args in enumerate(tasks):
        worker.send(task_id, args)
    await asyncio.wait_for(finished.wait(), 20)
    worker.close(kill=True)
    return outcomes, unanswered


def test_pages_larger_than_the_pipe_arrive_whole_and_in_order() -> None:
    big = 3 * PIPE_BYTES  # more than the pipe holds: written in parts as the worker reads
    outcomes, unanswered = asyncio.run(_run([(b"x" * big, 0.0), (b"y" * 10, 0.0), (b"z" * (big - 7), 0.0),
                                             (b"raise", 0.0)], answers=4))
    assert outcomes[:3] == [(0, True, big), (1, True, 10), (2, True, big - 7)]
    assert outcomes[3][:2] == (3, False) and "bad page" in outcomes[3][2]  # the task's exception, sent back
    assert unanswered is None


def test_a_worker_that_dies_names_the_tasks_it_left() -> None:
    outcomes, unanswered = asyncio.run(_run([(b"ok", 0.0), (b"die", 0.2), (b"later", 0.0)], answers=3))
    assert outcomes == [(0, True, 2)]
    assert unanswered == [1, 2]  # the one it was on first


def test_closing_the_pool_fails_its_pages_at_once_and_refuses_new_ones() -> None:
    """A forced shutdown (pages still in a worker's hands) fails those pages with ExtractionFailed
    without waiting for the worker, and a page sent afterwards fails the same way."""
    from newsarchive.extract_pool import ExtractionFailed, ExtractionPool
    from newsarchive.extraction import ExtractionOptions

    async def scenario() -> tuple[str, float, bool, str]:
        pool = ExtractionPool(1, timeout=60, max_in_flight=4, options=ExtractionOptions(),
                              faults=(("hang", "HANG-HERE"),))
        pool.start()
        worker = pool._processes[0]
        page = asyncio.ensure_future(pool.extract(b"<html><body><p>HANG-HERE</p></body></html>", "utf-8",
                                                  "http://127.0.0.1/hang"))
        deadline = time.monotonic() + 30
        while not worker.sent and time.monotonic() < deadline:  # the page has reached the worker's pipe
            await asyncio.sleep(0.05)
        started = time.monotonic()
        pool.close()
        closed_in = time.monotonic() - started
        try:
            await asyncio.wait_for(page, 5)
            first = "extracted"
        except ExtractionFailed as error:
            first = str(error)
        try:
            await pool.extract(b"<html><body><p>later</p></body></html>", "utf-8", "http://127.0.0.1/later")
            later = "extracted"
        except ExtractionFailed as error:
            later = str(error)
        return first, closed_in, worker.process.is_alive(), later

    first, closed_in, alive, later = asyncio.run(scenario())

    assert first == "the extraction workers were stopped"
    assert closed_in < 3  # not the 5 s a worker gets to finish what it was sent
    assert not alive
    assert later == "the extraction workers were stopped"
