"""One worker process and its two pipes, written and read by the event loop itself, without threads.

Tasks go down one pipe and outcomes come back up the other, each as a length-prefixed pickle (the
frames of multiprocessing's `Connection.send_bytes`, which the worker reads and writes with blocking
calls). In the crawl process, a task is written at once when the pipe has room, and what does not
fit waits for the loop to report the pipe writable; outcomes are read when the loop reports them
there. `concurrent.futures.ProcessPoolExecutor` does the same work in two helper threads (one pickles
and feeds, one waits for results and wakes the loop), which cost the crawl process about 1.2 ms of
CPU a page on the aeb pages, an eighth of all it spends, mostly user time in waking up for each page
(unpickling a result is 0.03 ms of that).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import struct
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

try:
    import fcntl
except ImportError:  # not a Unix: pipes keep their default size
    fcntl = None  # type: ignore[assignment]

#: multiprocessing's frame header: a signed 32-bit length, big-endian
_LENGTH = struct.Struct("!i")
#: Task pipes are grown to this (Linux's default limit for unprivileged users), so that a few news
#: pages fit at once: one write each, instead of a write per 64 KB as the worker drains the pipe.
PIPE_BYTES = 1 << 20
#: How much of the pipe's contents one read takes.
READ_BYTES = 1 << 20

#: on_outcome(worker, task_id, ok, value)
OnOutcome = Callable[["WorkerProcess", int, bool, Any], None]


def serve(tasks: Connection, outcomes: Connection, handle: Callable[..., Any]) -> None:
    """The worker's loop: each task's arguments through ``handle``, its outcome (the value it returned,
    or the exception it raised) sent back, until the crawl process closes the task pipe."""
    while True:
        try:
            data = tasks.recv_bytes()
        except EOFError:
            return
        task_id, args = pickle.loads(data)
        try:
            outcome = (task_id, True, handle(*args))
        except Exception as exc:  # the caller's to judge, like any other outcome
            outcome = (task_id, False, exc)
        try:
            payload = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            payload = pickle.dumps((task_id, False, RuntimeError(f"outcome not picklable: {exc!r}")))
        outcomes.send_bytes(payload)


def _grow(fd: int) -> None:
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    if set_size is None:
        return
    try:
        fcntl.fcntl(fd, set_size, PIPE_BYTES)
    except OSError:  # above /proc/sys/fs/pipe-max-size: the default size works, in more writes
        pass


class WorkerProcess:
    """A process running ``target(tasks, outcomes, *args)`` (which calls `serve`), fed by `send`;
    ``on_outcome(worker, task_id, ok, value)`` gets each outcome and ``on_exit(worker)`` the process's end
    (noticed when its outcome pipe closes), both called by the event loop."""

    def __init__(self, context: Any, target: Callable[..., None], args: tuple[Any, ...],
                 on_outcome: OnOutcome, on_exit: Callable[[WorkerProcess], None]) -> None:
        tasks_end, self._tasks = context.Pipe(duplex=False)
        self._outcomes, outcomes_end = context.Pipe(duplex=False)
        _grow(self._tasks.fileno())
        self.process = context.Process(target=target, args=(tasks_end, outcomes_end, *args), daemon=True)
        self.process.start()
        tasks_end.close()  # the worker's ends: once it is gone, its outcome pipe reads end-of-file
        outcomes_end.close()
        os.set_blocking(self._tasks.fileno(), False)
        os.set_blocking(self._outcomes.fileno(), False)
        self.on_outcome, self.on_exit = on_outcome, on_exit
        #: ids of the tasks sent and not answered, in order: the first is the one being worked on
        self.sent: deque[int] = deque()
        #: set when the process was killed on purpose (a task's timeout), not by a task
        self.killed = False
        self.closed = False
        self._unsent: deque[memoryview] = deque()
        self._writing = False
        self._received = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None

    def send(self, task_id: int, args: tuple[Any, ...]) -> None:
        """Queues a task; called from the event loop's thread."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self._outcomes.fileno(), self._read)
        payload = pickle.dumps((task_id, args), pickle.HIGHEST_PROTOCOL)
        self.sent.append(task_id)
        waiting = bool(self._unsent)
        self._unsent += (memoryview(_LENGTH.pack(len(payload))), memoryview(payload))
        if not waiting and not self.closed:
            self._write()

    def _write(self) -> None:
        try:
            written = os.writev(self._tasks.fileno(), list(self._unsent)[:64])
        except BlockingIOError:
            written = 0
        except OSError:  # the worker is gone: its outcome pipe's end-of-file tells on_exit
            self._unsent.clear()
            written = 0
        while written and self._unsent:
            first = self._unsent[0]
            if written < len(first):
                self._unsent[0] = first[written:]
                break
            written -= len(first)
            self._unsent.popleft()
        assert self._loop is not None
        if self._unsent and not self._writing:
            self._loop.add_writer(self._tasks.fileno(), self._write)
            self._writing = True
        elif not self._unsent and self._writing:
            self._loop.remove_writer(self._tasks.fileno())
            self._writing = False

    def _read(self) -> None:
        try:
            data = os.read(self._outcomes.fileno(), READ_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._gone()
            return
        received = self._received
        received += data
        while len(received) >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(received)
            end = _LENGTH.size + size
            if len(received) < end:
                break
            task_id, ok, value = pickle.loads(bytes(received[_LENGTH.size:end]))
            del received[:end]
            if self.sent and self.sent[0] == task_id:
                self.sent.popleft()
            elif task_id in self.sent:
                self.sent.remove(task_id)
            self.on_outcome(self, task_id, ok, value)

    def _gone(self) -> None:
        if self.closed:
            return
        self._release()
        self.on_exit(self)

    def kill(self) -> None:
        """SIGKILL; the loop then sees its outcome pipe close and calls on_exit."""
        self.killed = True
        self.process.kill()

    def close(self, kill: bool = False) -> None:
        """Stops feeding the worker (it exits when it has read what was sent) and forgets it: on_exit
        is not called. With ``kill``, it is killed at once."""
        if self.closed:
            return
        if kill:
            self.process.kill()
        self._release()
        self.process.join(5 if not kill else 1)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join(1)

    def _release(self) -> None:
        self.closed = True
        if self._loop is not None:
            self._loop.remove_reader(self._outcomes.fileno())
            if self._writing:
                self._loop.remove_writer(self._tasks.fileno())
        self._unsent.clear()
        self._tasks.close()
        self._outcomes.close()
