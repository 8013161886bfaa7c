"""JSON Lines sidecars: NAME.jsonl beside NAME.warc.gz, one article a line.

A line is written only after the records it points at are written (and, with NEWSARCHIVE_FSYNC, on
disk), and every line is flushed whole, so that a killed process leaves at worst a last line cut short,
which readers skip and recovery drops.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger(__name__)


def sidecar_path(warc_path: Path) -> Path:
    """NAME.warc.gz (or NAME.warc.gz.open, NAME.warc) -> NAME.jsonl."""
    name = warc_path.name
    for suffix in (".open", ".gz", ".warc"):
        name = name.removesuffix(suffix)
    return warc_path.with_name(name + ".jsonl")


def dumps(row: dict[str, Any]) -> str:
    """One line, stable key order as given, UTF-8 kept readable."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


class SidecarWriter:
    """Appends rows to the sidecar of the WARC file each row points at."""

    def __init__(self, root: Path, fsync: bool = False) -> None:
        self.root = root
        self.fsync = fsync
        self._handles: dict[str, IO[str]] = {}

    def write(self, row: dict[str, Any]) -> Path:
        warc_file = row["warc_file"]
        handle = self._handles.get(warc_file)
        if handle is None:
            path = sidecar_path(self.root / warc_file)
            handle = open(path, "a", encoding="utf-8")
            self._handles[warc_file] = handle
        handle.write(dumps(row) + "\n")
        handle.flush()
        if self.fsync:
            os.fsync(handle.fileno())
        return Path(handle.name)

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a sidecar; a last line cut short by a crash is skipped with a warning."""
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                logger.warning("%s:%d: unreadable sidecar line skipped", path, number)


def iter_sidecars(root: Path) -> Iterator[Path]:
    """Every sidecar under an archive folder, in name order (crawl date, then time)."""
    yield from sorted(root.rglob("*.jsonl"))
