"""`newsarchive export`: the archive's articles as one JSON Lines, Parquet or CSV file.

Streams: sidecars are read row by row and written in batches (Parquet: one row group per batch), so
memory stays flat whatever the archive's size. Only the per-URL latest-capture table (~0.4 KB a URL)
and, with dedup, the MinHash index grow with the number of articles (see newsarchive.dedup).
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from newsarchive.corpus_rows import Progress, RowFilter, iter_rows, latest_captures

if TYPE_CHECKING:
    from newsarchive.dedup import DuplicateFinder

logger = logging.getLogger(__name__)

FORMATS = ("jsonl", "parquet", "csv")
BATCH_ROWS = 1000

SCHEMA = pa.schema([
    pa.field("url", pa.string(), nullable=False),
    pa.field("final_url", pa.string()),
    pa.field("canonical_url", pa.string()),
    pa.field("site", pa.string()),
    pa.field("title", pa.string()),
    pa.field("authors", pa.list_(pa.string())),
    pa.field("date_published", pa.string()),
    pa.field("date_modified", pa.string()),
    pa.field("language", pa.string()),
    pa.field("sitename", pa.string()),
    pa.field("description", pa.string()),
    pa.field("tags", pa.list_(pa.string())),
    pa.field("image", pa.string()),
    pa.field("text", pa.string()),
    pa.field("word_count", pa.int32()),
    pa.field("source", pa.string()),
    pa.field("duplicate_urls", pa.list_(pa.string())),
    pa.field("fetched_at", pa.timestamp("ms", tz="UTC")),
    pa.field("status", pa.int16()),
    pa.field("content_type", pa.string()),
    pa.field("warc_file", pa.string()),
    pa.field("warc_record_id", pa.string()),
    pa.field("warc_offset", pa.int64()),
    pa.field("warc_length", pa.int64()),
    pa.field("warc_date", pa.string()),
    pa.field("payload_digest", pa.string()),
    pa.field("conversion_record_id", pa.string()),
    pa.field("extractor_name", pa.string()),
    pa.field("extractor_version", pa.string()),
    pa.field("newsarchive_version", pa.string()),
])
COLUMNS = SCHEMA.names
LIST_COLUMNS = {"authors", "tags", "duplicate_urls"}


@dataclass(frozen=True)
class ExportOptions:
    """What `newsarchive export` was asked for."""

    format: str = "jsonl"
    filters: RowFilter = field(default_factory=RowFilter)
    dedup: bool = False
    dedup_threshold: float = 0.7
    all_captures: bool = False

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {self.format!r}")


@dataclass(frozen=True)
class ExportResult:
    rows: int
    duplicates: int
    superseded: int
    passes: int


def corpus_row(row: dict[str, Any], duplicate_urls: list[str]) -> dict[str, Any]:
    """A sidecar row in the corpus's columns (see SCHEMA and the README)."""
    extractor = row.get("extractor") or {}
    out = {name: row.get(name) for name in COLUMNS}
    out["authors"] = list(row.get("authors") or [])
    out["tags"] = list(row.get("tags") or [])
    out["duplicate_urls"] = duplicate_urls
    out["extractor_name"] = extractor.get("name")
    out["extractor_version"] = extractor.get("version")
    out["newsarchive_version"] = extractor.get("newsarchive")
    return out


def passes_needed(options: ExportOptions) -> int:
    """How many times the sidecars are read (for the progress bar's total)."""
    return 1 + (not options.all_captures) + options.dedup


def iter_corpus(root: Path, options: ExportOptions, progress: Progress | None = None,
                counts: dict[str, int] | None = None) -> Iterator[dict[str, Any]]:
    """The corpus rows in crawl order: filtered, latest capture per URL, duplicates folded in."""
    counts = counts if counts is not None else {}
    filters = options.filters
    total_rows = 0
    if not options.all_captures:
        latest = latest_captures(root, progress)
        filters = RowFilter(filters.since, filters.until, filters.sites, filters.languages,
                            filters.min_words, frozenset(latest))
    finder: DuplicateFinder | None = None
    if options.dedup:
        from newsarchive.dedup import DuplicateFinder  # datasketch takes seconds to import

        finder = DuplicateFinder(threshold=options.dedup_threshold)
        finder.add_all(row for row in iter_rows(root, progress) if filters.accepts(row))
        counts["duplicates"] = finder.duplicates
    for row in iter_rows(root, progress):
        total_rows += 1
        if not filters.accepts(row):
            continue
        record_id = str(row["warc_record_id"])
        if finder is not None and finder.is_duplicate(record_id):
            continue
        yield corpus_row(row, finder.kept_with(record_id) if finder else [])
    if filters.only_ids is not None:
        counts["superseded"] = total_rows - len(filters.only_ids)


def export_archive(root: Path, out: Path, options: ExportOptions,
                   progress: Progress | None = None) -> ExportResult:
    """Writes the corpus to `out` (through `out.NAME.part`, renamed when complete)."""
    if not root.is_dir():
        raise FileNotFoundError(f"no archive folder at {root}")
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f".{out.name}.part")
    counts: dict[str, int] = {}
    rows = iter_corpus(root, options, progress, counts)
    try:
        written = {"jsonl": _write_jsonl, "parquet": _write_parquet, "csv": _write_csv}[options.format](rows, part)
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    logger.info("Exported %d articles to %s (%s)", written, out, options.format)
    return ExportResult(written, counts.get("duplicates", 0), counts.get("superseded", 0), passes_needed(options))


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_jsonl(rows: Iterator[dict[str, Any]], path: Path) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def _write_csv(rows: Iterator[dict[str, Any]], path: Path) -> int:
    """RFC 4180 CSV with a header; list columns hold JSON arrays."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({name: json.dumps(value, ensure_ascii=False) if name in LIST_COLUMNS else value
                             for name, value in row.items()})
            count += 1
    return count


def _timestamp(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).astimezone(UTC)
    except ValueError:
        return None


def _write_parquet(rows: Iterator[dict[str, Any]], path: Path) -> int:
    """One row group per batch of rows; zstd-compressed columns."""
    count = 0
    with open(path, "wb") as fh, pq.ParquetWriter(fh, SCHEMA, compression="zstd") as writer:
        for batch in _batches(rows):
            for row in batch:
                row["fetched_at"] = _timestamp(row["fetched_at"])
            writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA), row_group_size=len(batch))
            count += len(batch)
    return count

