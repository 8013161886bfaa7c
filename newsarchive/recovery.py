"""Crash recovery: finish what a killed run left in an archive folder, without touching what is complete.

A run killed at any moment leaves at most: `*.warc.gz.open` files whose last gzip member is cut short
(or whose last response lost its request), sidecar lines that only a state update was still missing,
and captures in the crawl state whose records never made it to disk (power loss). `recover()`
truncates each open file to its last complete record pair and renames it, drops sidecar lines that
point at no kept record, forgets lost captures and marks the sidecars' articles done, so the next run
fetches exactly the articles that were not completed. The next run does this at start, under the lock;
`newsarchive recover DIR` does it by hand.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator

from newsarchive.lockfile import RunLock
from newsarchive.sidecar import dumps, iter_sidecars, sidecar_path
from newsarchive.state import CrawlState, open_state
from newsarchive.warc_writer import OPEN_SUFFIX

logger = logging.getLogger(__name__)

_CHUNK = 1 << 16


@dataclass
class FileRecovery:
    """What was done to one left-over open WARC file."""

    path: Path  # final name
    records: int  # complete records kept
    bytes_cut: int
    removed: bool = False  # nothing worth keeping (not even one record after the warcinfo)
    sidecar_lines_dropped: int = 0


@dataclass
class RecoveryReport:
    files: list[FileRecovery] = field(default_factory=list)
    captures_forgotten: int = 0
    articles_confirmed: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.files or self.captures_forgotten)

    def lines(self) -> list[str]:
        out = []
        for item in self.files:
            if item.removed:
                out.append(f"removed {item.path.name}.open: no complete record after its warcinfo "
                           f"({item.bytes_cut} bytes)")
            else:
                out.append(f"closed {item.path.name}: {item.records} complete records kept, "
                           f"{item.bytes_cut} bytes of an unfinished record cut, "
                           f"{item.sidecar_lines_dropped} sidecar lines dropped")
        out.append(f"crawl state: {self.captures_forgotten} lost captures forgotten, "
                   f"{self.articles_confirmed} sidecar articles confirmed done")
        return out


@dataclass(frozen=True)
class _Record:
    start: int
    end: int
    type: str
    record_id: str


def _member_bounds(fh: IO[bytes]) -> Iterator[tuple[int, int]]:
    """(start, end) of each complete gzip member, in order; stops at the first one cut short or broken."""
    position, data = 0, b""
    while True:
        if not data:
            data = fh.read(_CHUNK)
            if not data:
                return
        start, decompressor = position, zlib.decompressobj(16 + zlib.MAX_WBITS)
        while not decompressor.eof:
            if not data:
                data = fh.read(_CHUNK)
                if not data:
                    return
            try:
                decompressor.decompress(data)
            except zlib.error:
                return
            used = len(data) - len(decompressor.unused_data)
            position += used
            data = decompressor.unused_data
        yield start, position


def _complete_records(path: Path) -> list[_Record]:
    """The file's complete records up to the first damaged one."""
    records: list[_Record] = []
    with open(path, "rb") as bounds_fh, open(path, "rb") as read_fh:
        for start, end in _member_bounds(bounds_fh):
            read_fh.seek(start)
            member = read_fh.read(end - start)
            try:
                record = next(iter(ArchiveIterator(io.BytesIO(member))))
                while record.raw_stream.read(_CHUNK):
                    pass
                if getattr(record.raw_stream, "limit", 0):  # shorter than its Content-Length
                    break
            except Exception:
                break
            records.append(_Record(start, end, record.rec_type, record.rec_headers.get_header("WARC-Record-ID")))
    return records


def _read_rows(path: Path) -> list[tuple[str, dict[str, Any] | None]]:
    rows: list[tuple[str, dict[str, Any] | None]] = []
    if not path.exists():
        return rows
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.endswith("\n"):  # cut short by the crash
                rows.append((line, None))
                continue
            try:
                row = json.loads(line)
                rows.append((line, row if isinstance(row, dict) else None))
            except json.JSONDecodeError:
                rows.append((line, None))
    return rows


def _confirm(state: CrawlState | None, rows: list[dict[str, Any]]) -> int:
    """Articles with a sidecar line are done, whatever the dead run told the state."""
    if state is None:
        return 0
    confirmed = 0
    for row in rows:
        if isinstance(row, dict) and isinstance(row.get("warc_record_id"), str):
            state.mark_done(row["warc_record_id"], [u for u in (row.get("url"), row.get("final_url")) if u])
            confirmed += 1
    return confirmed


def recover_file(root: Path, open_path: Path, state: CrawlState | None, report: RecoveryReport) -> None:
    """Truncates one `*.open` file to its last complete record pair, fixes its sidecar, renames it."""
    final = open_path.with_name(open_path.name.removesuffix(OPEN_SUFFIX))
    relative = final.relative_to(root).as_posix()
    size = open_path.stat().st_size
    records = _complete_records(open_path)
    while records and records[-1].type in ("response", "revisit"):  # its request never made it
        records.pop()
    keep = records[-1].end if records else 0
    kept_ids = {r.record_id: r for r in records}

    sidecar = sidecar_path(final)
    rows = _read_rows(sidecar)
    good = [row for _, row in rows if row is not None and row.get("warc_record_id") in kept_ids
            and int(row.get("warc_offset", -1)) == kept_ids[row["warc_record_id"]].start]
    item = FileRecovery(final, len(records), size - keep, sidecar_lines_dropped=len(rows) - len(good))
    report.files.append(item)

    if state is not None:
        lost = [c.record_id for c in state.captures_in(relative) if c.record_id not in kept_ids]
        report.captures_forgotten += state.forget(lost)

    if item.sidecar_lines_dropped:
        temporary = sidecar.with_name(sidecar.name + ".tmp")
        temporary.write_text("".join(dumps(row) + "\n" for row in good), encoding="utf-8")
        os.replace(temporary, sidecar)
    if len(records) <= 1:  # nothing but a warcinfo (or not even that): nothing was archived in it
        item.removed = True
        open_path.unlink()
        if sidecar.exists() and not good:
            sidecar.unlink()
        return
    if keep < size:
        with open(open_path, "r+b") as fh:
            fh.truncate(keep)
            os.fsync(fh.fileno())
    report.articles_confirmed += _confirm(state, good)
    if final.exists():
        logger.error("Recovery: %s already exists; leaving %s as it is", final, open_path)
        return
    os.replace(open_path, final)


def recover(root: Path, state: CrawlState | None = None, since: float | None = None) -> RecoveryReport:
    """Finishes every `*.open` WARC file under root; with `since` (the dead run's start, epoch seconds),
    also confirms the articles of sidecars written since then. Call it only while holding the lock."""
    report = RecoveryReport()
    for open_path in sorted(root.rglob("*" + OPEN_SUFFIX)):
        if not open_path.is_file():
            continue
        if open_path.name.endswith(".warc.gz" + OPEN_SUFFIX):
            recover_file(root, open_path, state, report)
        else:  # not written by us (we write record-by-record gzip only): never guess
            logger.warning("Recovery: leaving %s alone (not a .warc.gz.open file)", open_path)
    if since is not None and state is not None:
        done = {sidecar_path(item.path) for item in report.files}
        for sidecar in iter_sidecars(root):
            if sidecar not in done and sidecar.stat().st_mtime >= since - 1:
                report.articles_confirmed += _confirm(state, [row for _, row in _read_rows(sidecar) if row])
    return report


def lock_and_recover(directory: Path, wait: float, state: CrawlState | None) -> RunLock:
    """Takes the lock, then finishes what a killed run left (logged); raises ArchiveLocked."""
    lock = RunLock(directory)
    lock.acquire(wait)
    since = None
    if lock.previous is not None:
        logger.warning("The last run on %s did not finish (%s); recovering its files", directory,
                       lock.previous.describe())
        since = lock.previous.started
    report = recover(directory, state, since=since)
    if report.anything:
        for line in report.lines():
            logger.warning("Recovery: %s", line)
    return lock


def recover_folder(directory: Path, wait: float = 0.0) -> RecoveryReport:
    """`newsarchive recover DIR`: the same as a run does at start, under the lock, then lets go."""
    state = open_state(directory)
    try:
        lock = RunLock(directory)
        lock.acquire(wait)
        try:
            since = lock.previous.started if lock.previous else None
            return recover(directory, state, since=since)
        finally:
            lock.release()
    finally:
        state.close()
