"""One run at a time per archive folder: an flock on NEWSARCHIVE_DIR/newsarchive.lock.

The kernel releases an flock when its process dies, however it dies, so a lock left by a killed run is
stale by construction and simply taken. The file keeps who holds it (pid, host, start) for the message a
second run prints, and is emptied on a clean exit: a new holder that finds it not empty knows the last
run did not finish, and recovers its files (`newsarchive.recovery`) before crawling.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

LOCK_FILE = "newsarchive.lock"
EXIT_LOCKED = 3  # exit status of `scrapy crawl` and `newsarchive recover` when the folder is locked


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    started: float  # epoch seconds

    def describe(self) -> str:
        moment = datetime.fromtimestamp(self.started, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return f"pid {self.pid} on {self.host}, started {moment}"


class ArchiveLocked(RuntimeError):
    """Another run holds the archive folder's lock."""

    def __init__(self, directory: Path, holder: Holder | None, waited: float) -> None:
        who = holder.describe() if holder else "an unknown process"
        waited_text = f" after waiting {waited:g}s" if waited else ""
        super().__init__(
            f"Archive folder {directory} is in use by another newsarchive run ({who}){waited_text}; "
            "exiting. To wait for it instead: -s NEWSARCHIVE_LOCK_WAIT=SECONDS (newsarchive recover: --wait SECONDS)."
        )
        self.holder = holder


def _read_holder(handle: IO[str]) -> Holder | None:
    handle.seek(0)
    text = handle.read().strip()
    if not text:
        return None
    try:
        return Holder(**json.loads(text))
    except (ValueError, TypeError):
        return Holder(pid=0, host="?", started=0.0)


class RunLock:
    """`acquire()` takes the folder's lock or raises ArchiveLocked; `release()` marks a clean finish."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / LOCK_FILE
        self._handle: IO[str] | None = None
        self.previous: Holder | None = None  # set when the last holder did not finish cleanly

    def acquire(self, wait: float = 0.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_holder(handle)
                if time.monotonic() >= deadline:
                    handle.close()
                    raise ArchiveLocked(self.directory, holder, wait) from None
                if not told:
                    logger.warning("Archive folder %s is in use (%s); waiting up to %gs",
                                   self.directory, holder.describe() if holder else "unknown", wait)
                    told = True
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        self.previous = _read_holder(handle)
        me = Holder(os.getpid(), socket.gethostname(), time.time())
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(asdict(me)) + "\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        handle.seek(0)
        handle.truncate()  # empty: this run finished
        handle.flush()
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()
