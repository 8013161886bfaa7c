"""Testing hook, never for production: NEWSARCHIVE_TEST_PAUSE_AFTER=POINT:N freezes the crawl there.

The crash-recovery tests need a crawl stopped at a known point of writing so that they can SIGKILL it:
- `writes:N`  after the Nth write to a WARC file (the warcinfo is write 1; a response and its request
  are one write, a conversion record another);
- `torn:N`    in the middle of the Nth write: all of it but its last 7 bytes reach the file, so the last
  gzip member is cut short (for a response and its request: the request is cut, the response whole);
- `sidecar:N` after the Nth sidecar line, before the crawl state hears that the article is done.
The process logs PAUSE_MARK and then sleeps in the reactor thread until it is killed.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from newsarchive.sidecar import SidecarWriter
from newsarchive.warc_writer import WARCFileWriter

logger = logging.getLogger(__name__)

PAUSE_MARK = "NEWSARCHIVE TEST PAUSE"


def _pause(what: str) -> None:
    logger.warning("%s: %s (testing hook NEWSARCHIVE_TEST_PAUSE_AFTER); waiting to be killed", PAUSE_MARK, what)
    for handler in logging.getLogger().handlers:
        handler.flush()
    while True:
        time.sleep(3600)


def pausing_writers(point: str, count: int) -> tuple[type[WARCFileWriter], type[SidecarWriter]]:
    """A WARC writer and a sidecar writer that freeze at the given point."""

    class PausingWARCWriter(WARCFileWriter):
        writes = 0

        def _append(self, data: bytes) -> int:
            type(self).writes += 1
            if point == "torn" and self.writes == count:
                current = self._require_open()
                current.handle.write(data[:-7])
                current.handle.flush()
                _pause(f"write {count} torn after {len(data) - 7} of {len(data)} bytes")
            offset = super()._append(data)
            if point == "writes" and self.writes == count:
                _pause(f"after write {count}")
            return offset

    class PausingSidecarWriter(SidecarWriter):
        lines = 0

        def write(self, row: dict[str, Any]) -> Path:
            path = super().write(row)
            type(self).lines += 1
            if point == "sidecar" and self.lines == count:
                _pause(f"after sidecar line {count}")
            return path

    return PausingWARCWriter, PausingSidecarWriter
