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
