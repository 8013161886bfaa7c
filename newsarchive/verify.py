"""`newsarchive verify`: proof that an archive folder is whole, read-only.

Checks, per WARC: gzip framing (every member complete, its CRC right, no bytes after the last one),
one record per gzip member, every record read to its Content-Length, block and payload digests
(warcio's digest checks), every response paired with a request (WARC-Concurrent-To) and conversion
records referring to a record that exists. Per sidecar row: the row's WARC file exists and holds, at
`warc_offset`, a response record with the row's record id, URL, payload digest and member length.
And no `*.open` file is left over. Files are only ever opened for reading.

Memory: the record ids, to pair records across files (a few hundred bytes a record).
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from newsarchive.sidecar import iter_sidecars

logger = logging.getLogger(__name__)

CHUNK = 1 << 20
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Problem:
    """One thing wrong: which file, where in it (`offset N` or `line N`), and what."""

    path: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.message}"

    @property
    def position(self) -> int:
        """The byte offset or line number in `where` (-1 for the whole file)."""
        number = self.where.rsplit(" ", 1)[-1]
        return int(number) if number.isdigit() else -1


@dataclass
class VerifyReport:
    warcs: int = 0
    members: int = 0
    records: int = 0
    sidecars: int = 0
    sidecar_rows: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def damaged_files(self) -> dict[str, Problem]:
        """Each damaged file with its first problem (the first bad offset or line), in name order."""
        first: dict[str, Problem] = {}
        for problem in sorted(self.problems, key=lambda p: (p.path, p.position)):
            first.setdefault(problem.path, problem)
        return first


@dataclass
class _Links:
    """Record ids seen across all files, to pair requests with responses after the walk."""

    responses: dict[str, tuple[str, int]] = field(default_factory=dict)
    concurrent: set[str] = field(default_factory=set)
    refers: list[tuple[str, str, int]] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


def warc_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith((".warc.gz", ".warc")))


def verify_archive(root: Path, progress: Progress | None = None) -> VerifyReport:
    """Checks everything under `root`; never writes there."""
    if not root.is_dir():
        raise FileNotFoundError(f"no archive folder at {root}")
    report = VerifyReport()
    links = _Links()
    for path in sorted(root.rglob("*.open")):
        report.problems.append(Problem(_rel(path, root), "file", "left open (*.open): an unfinished or crashed write"))
    for path in warc_files(root):
        report.warcs += 1
        name = _rel(path, root)
        members = _gzip_members(path, name, report.problems) if path.name.endswith(".gz") else None
        _read_records(path, name, members, report, links)
        if progress is not None:
            progress(path.stat().st_size)
    _check_links(links, report)
    for sidecar in iter_sidecars(root):
        if not any(sidecar.with_name(sidecar.name[:-6] + ext).exists() for ext in (".warc.gz", ".warc")):
            continue  # not a sidecar (crawl stats, exports): left alone
        report.sidecars += 1
        _check_sidecar(root, sidecar, report)
    return report


def _rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root))


def _gzip_members(path: Path, name: str, problems: list[Problem]) -> list[int]:
    """Offsets of the file's gzip members, each decompressed to its end (CRC and length checked).

    Stops at the first damage: a member that does not decompress, ends early, or bytes that are no
    gzip member at all.
    """
    offsets: list[int] = []
    offset = 0
    with open(path, "rb") as fh:
        pending = fh.read(CHUNK)
        while pending:
            if len(pending) < 2:
                pending += fh.read(CHUNK)
            if pending[:2] != b"\x1f\x8b":
                size = path.stat().st_size - offset
                problems.append(Problem(name, f"offset {offset}", f"{size} bytes of junk after the last record "
                                        "(not a gzip member)"))
                return offsets
            start = offset
            offsets.append(start)
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while True:
                try:
                    inflater.decompress(pending, CHUNK)
                except zlib.error as exc:
                    problems.append(Problem(name, f"offset {start}", f"gzip member is corrupt ({exc})"))
                    return offsets
                if inflater.eof:
                    offset += len(pending) - len(inflater.unused_data)
                    pending = inflater.unused_data
                    break
                offset += len(pending) - len(inflater.unconsumed_tail)
                pending = inflater.unconsumed_tail or fh.read(CHUNK)
                if not pending:
                    problems.append(Problem(name, f"offset {start}", "gzip member ends early (file truncated)"))
                    return offsets
            if not pending:
                pending = fh.read(CHUNK)
    return offsets


def _read_records(path: Path, name: str, members: list[int] | None, report: VerifyReport, links: _Links) -> None:
    """Reads every record to its end with warcio, checking digests, lengths and member framing."""
    member_set = set(members) if members is not None else None
    offset = 0
    with open(path, "rb") as fh:
        iterator = ArchiveIterator(fh, check_digests=True)
        try:
            for record in iterator:
                while record.raw_stream.read(CHUNK):
                    pass
                offset = iterator.get_record_offset()
                report.records += 1
                missing = getattr(record.raw_stream, "limit", 0)
                if missing:
                    report.problems.append(Problem(name, f"offset {offset}",
                                                   f"{record.rec_type} record is cut short ({missing} bytes missing)"))
                for issue in record.digest_checker.problems if record.digest_checker else []:
                    report.problems.append(Problem(name, f"offset {offset}", f"{record.rec_type} record: {issue}"))
                if member_set is not None and offset not in member_set:
                    report.problems.append(Problem(name, f"offset {offset}",
                                                   "record does not start its own gzip member"))
                _note_links(record.rec_headers, name, offset, links)
        except Exception as exc:
            where = iterator.offset if iterator.offset is not None else offset
            report.problems.append(Problem(name, f"offset {where}",
                                           f"unreadable from here ({type(exc).__name__}: {exc})"))
    if members is not None:
        report.members += len(members)


def _note_links(headers: Any, name: str, offset: int, links: _Links) -> None:
    kind = headers.get_header("WARC-Type")
    record_id = headers.get_header("WARC-Record-ID") or ""
    links.ids.add(record_id)
    if kind == "response":
        links.responses[record_id] = (name, offset)
    elif kind == "request":
        links.concurrent.update(headers.get_header("WARC-Concurrent-To", "").split())
    if kind in ("conversion", "metadata") and headers.get_header("WARC-Refers-To"):
        links.refers.append((headers.get_header("WARC-Refers-To"), name, offset))


def _check_links(links: _Links, report: VerifyReport) -> None:
    for record_id, (name, offset) in links.responses.items():
        if record_id not in links.concurrent:
            report.problems.append(Problem(name, f"offset {offset}", f"response {record_id} has no request record"))
    for target, name, offset in links.refers:
        if target not in links.ids:
            report.problems.append(Problem(name, f"offset {offset}", f"refers to a missing record {target}"))


def _check_sidecar(root: Path, sidecar: Path, report: VerifyReport) -> None:
    name = _rel(sidecar, root)
    for number, row in _numbered_rows(sidecar):
        report.sidecar_rows += 1
        problem = _row_problem(root, row)
        if problem:
            report.problems.append(Problem(name, f"line {number}", problem))


def _numbered_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(line number, row) pairs, streamed; None for a line that is not JSON."""
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError:
                yield number, None


def _row_problem(root: Path, row: dict[str, Any] | None) -> str | None:
    """What is wrong with one sidecar row's pointer into its WARC, or None."""
    if not isinstance(row, dict):
        return "not a JSON object (unreadable line)"
    warc = root / str(row.get("warc_file", ""))
    if not row.get("warc_file") or not warc.is_file():
        return f"warc_file {row.get('warc_file')!r} does not exist"
    offset = row.get("warc_offset")
    if not isinstance(offset, int) or offset < 0:
        return f"bad warc_offset {offset!r}"
    try:
        with open(warc, "rb") as fh:
            fh.seek(offset)
            iterator = ArchiveIterator(fh)
            record = next(iter(iterator))
            headers = record.rec_headers
            iterator.read_to_end()
            length = iterator.get_record_length()
    except Exception as exc:
        return f"no record at warc_offset {offset} ({type(exc).__name__}: {exc})"
    if headers.get_header("WARC-Record-ID") != row.get("warc_record_id"):
        return (f"warc_offset {offset} holds {headers.get_header('WARC-Record-ID')}, "
                f"not {row.get('warc_record_id')}")
    if headers.get_header("WARC-Type") not in ("response", "revisit"):
        return f"warc_offset {offset} holds a {headers.get_header('WARC-Type')} record, not a response"
    target = headers.get_header("WARC-Target-URI")
    if target not in (row.get("final_url"), row.get("url")):
        return f"URL differs: record has {target}, row has {row.get('final_url')}"
    if row.get("payload_digest") and headers.get_header("WARC-Payload-Digest") != row.get("payload_digest"):
        return (f"payload digest differs: record has {headers.get_header('WARC-Payload-Digest')}, "
                f"row has {row.get('payload_digest')}")
    if warc.name.endswith(".gz") and row.get("warc_length") not in (None, length):
        return f"warc_length {row.get('warc_length')} differs from the record's gzip member ({length})"
    return None
