"""`newsarchive reextract DIR`: rebuild article text and metadata from the archived responses alone.

Why: the extractor and its rules improve after pages are archived, and site-level boilerplate is
best learned from all of a site's pages at once. Re-extraction reads each sidecar row's response
record from its WARC (no network), decodes it as the crawl did, extracts it with the current code,
learns site boilerplate over the whole archive (two passes: learn, then filter — the offline mode
of ``BlockStats``) and rewrites the sidecars.

Design, so that the same input always gives the same bytes:

* WARC files are never touched. Each sidecar is rewritten in place, atomically (``NAME.jsonl.tmp``
  then rename), rows in their original order; WARC location fields, ``fetched_at`` (the capture's
  WARC-Date), ``status``, ``source`` and ``conversion_record_id`` (the crawl-time text record) stay;
  text and metadata fields are replaced; ``extractor`` records the versions and ``"mode": "reextract"``.
* A metadata field the page itself no longer yields keeps its old value (it may come from a feed
  hint, which only the crawl saw). A row whose page no longer yields an article is dropped.
* Files, rows and sites are visited in sorted order; nothing depends on the clock or on hashing.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Headers, TextResponse
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

from newsarchive.boilerplate import BlockStats, site_of
from newsarchive.extraction import ExtractedArticle, ExtractionOptions, extract_article, extractor_info
from newsarchive.sidecar import dumps, iter_sidecars, read_rows

logger = logging.getLogger(__name__)

#: Sidecar fields that re-extraction recomputes; everything else in a row is kept as it was.
TEXT_FIELDS = ("canonical_url", "title", "authors", "date_published", "date_modified", "language", "sitename",
               "description", "tags", "image", "text", "word_count")


@dataclass
class ReextractReport:
    """What a run did, for the CLI to print."""

    sidecars: int = 0
    rows: int = 0
    changed: int = 0
    dropped: int = 0
    unreadable: int = 0
    blocks_removed: int = 0
    errors: list[str] = field(default_factory=list)


def read_response(archive: Path, row: dict[str, Any]) -> tuple[ArcWarcRecord, bytes]:
    """The response record a sidecar row points at (by file and offset; its id is checked), and its
    body as the page was served: de-chunked and content-decoded (gzip, br, deflate) by warcio."""
    with open(archive / row["warc_file"], "rb") as fh:
        fh.seek(int(row["warc_offset"]))
        record = next(iter(ArchiveIterator(fh)))
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        if record.rec_type != "response" or record_id != row["warc_record_id"]:
            raise ValueError(f"no response record {row['warc_record_id']} at offset {row['warc_offset']}")
        return record, record.content_stream().read()


def decode_html(record: ArcWarcRecord, body: bytes) -> str:
    """The page's text exactly as the crawl decoded it: Scrapy's own ``TextResponse.text`` (HTTP
    charset, then BOM and ``<meta>`` sniffing through w3lib's ``html_to_unicode``)."""
    headers = record.http_headers.headers if record.http_headers else []
    url = record.rec_headers.get_header("WARC-Target-URI") or "http://invalid/"
    return TextResponse(url=url, headers=Headers(headers), body=body).text


#: (hosts, drop selectors) of each site config that has extraction rules.
SiteRules = list[tuple[tuple[str, ...], tuple[str, ...]]]


def load_site_rules(sites_dir: Path | None) -> SiteRules:
    """The drop selectors of the site configs (package and NEWSARCHIVE_SITES_DIR), by their hosts."""
    from newsarchive.sites import SiteConfigError, load_site, site_files

    rules: SiteRules = []
    for name, path in sorted(site_files(sites_dir).items()):
        try:
            config = load_site(path)
        except SiteConfigError as exc:
            logger.warning("Site config %s not used: %s", name, exc)
            continue
        if config.drop_selectors and config.domains:
            rules.append((tuple(config.domains), config.drop_selectors))
    return rules


def _options_for(url: str, options: ExtractionOptions | None, rules: SiteRules) -> ExtractionOptions | None:
    """The options with the drop selectors of every site config whose hosts include the URL's host."""
    host = (urlsplit(url).hostname or "").lower()
    extra: tuple[str, ...] = ()
    for hosts, selectors in rules:
        if any(host == h or host.endswith("." + h) for h in hosts):
            extra += selectors
    if not extra:
        return options
    base = options or ExtractionOptions()
    return replace(base, drop_selectors=base.drop_selectors + extra)


def _extract_one(archive: Path, location: dict[str, Any], url: str, options: ExtractionOptions | None,
                 rules: SiteRules) -> dict[str, Any] | None:
    html = decode_html(*read_response(archive, location))
    article = extract_article(html, url, _options_for(url, options, rules))
    return article.as_dict() if article is not None else None


def _extract_row(archive: Path, row: dict[str, Any], options: ExtractionOptions | None,
                 rules: SiteRules) -> tuple[str, Any]:
    """("ok", {"article": dict or None, "parts": [[url, dict], ...]}) or ("error", message) for one
    sidecar row and the later pages of a multi-page article; runs in a worker."""
    try:
        article = _extract_one(archive, row, row.get("final_url") or row["url"], options, rules)
        parts = []
        if article is not None:
            for part in row.get("more_pages") or []:
                more = _extract_one(archive, part, part["url"], options, rules)
                if more is not None:
                    parts.append([part["url"], more])
    except (OSError, ValueError, KeyError, StopIteration, EOFError, ArchiveLoadFailed) as exc:
        return "error", f"cannot read its response record: {type(exc).__name__}: {str(exc)[:200]}"
    except Exception as exc:  # one page's failure must not stop the rebuild
        return "error", f"extraction raised {type(exc).__name__}: {str(exc)[:200]}"
    return "ok", {"article": article, "parts": parts}


def _extracted(archive: Path, rows: list[dict[str, Any]], options: ExtractionOptions | None,
               rules: SiteRules, pool: ProcessPoolExecutor | None) -> Iterator[tuple[str, Any]]:
    """Extraction results of ``rows``, in row order (whatever the number of workers)."""
    if pool is None:
        return (_extract_row(archive, row, options, rules) for row in rows)
    return pool.map(partial(_extract_row, archive, options=options, rules=rules), rows, chunksize=8)


def reextract(archive: Path, options: ExtractionOptions | None = None, min_docs: int = 3,
              learn: bool = True, workers: int = 1, sites_dir: Path | None = None) -> ReextractReport:
    """Re-extract every sidecar row under ``archive`` from its WARC record and rewrite the sidecars.

    Pass 1 extracts each page (in ``workers`` processes), observes its blocks and spools the result
    to a temporary file, so memory does not grow with the archive; pass 2 filters each spooled
    article with the complete statistics and rewrites its sidecar.
    """
    report = ReextractReport()
    stats = BlockStats(min_docs=min_docs) if learn else None
    rules = load_site_rules(sites_dir)
    sidecars = [path for path in iter_sidecars(archive) if path.suffix == ".jsonl"]
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    with tempfile.TemporaryDirectory(prefix="newsarchive-reextract-") as spool_dir:
        spools: list[tuple[Path, Path]] = []
        try:
            for number, path in enumerate(sidecars):
                spool = Path(spool_dir) / f"{number}.jsonl"
                rows = list(read_rows(path))
                with open(spool, "w", encoding="utf-8") as out:
                    for row, result in zip(rows, _extracted(archive, rows, options, rules, pool), strict=True):
                        if stats is not None and result[0] == "ok" and result[1]["article"] is not None:
                            url = row.get("final_url") or row["url"]
                            stats.observe(site_of(url), url, result[1]["article"]["paragraphs"])
                            for part_url, part in result[1]["parts"]:
                                stats.observe(site_of(part_url), part_url, part["paragraphs"])
                        out.write(json.dumps(result, ensure_ascii=False) + "\n")
                spools.append((path, spool))
        finally:
            if pool is not None:
                pool.shutdown()
        for path, spool in spools:
            _rewrite(path, spool, stats, report)
    return report


def _rewrite(path: Path, spool: Path, stats: BlockStats | None, report: ReextractReport) -> None:
    """Pass 2 for one sidecar: filter each spooled article and write the sidecar atomically."""
    out: list[dict[str, Any]] = []
    rows = list(read_rows(path))
    with open(spool, encoding="utf-8") as fh:
        results = [json.loads(line) for line in fh]
    for index, (row, (status, value)) in enumerate(zip(rows, results, strict=True)):
        if status == "error":
            report.unreadable += 1
            report.errors.append(f"{path.name}:{index + 1}: {value}")
            logger.error("%s:%d: %s (row kept as it was)", path, index + 1, value)
            out.append(row)
            continue
        if value["article"] is None:
            report.dropped += 1
            logger.info("%s:%d: no article text any more on %s; row dropped", path, index + 1, row.get("url"))
            continue
        url = row.get("final_url") or row["url"]
        article = _filtered(url, _article(value["article"]), stats, report)
        if value["parts"]:  # a multi-page article: each page filtered on its own, then joined
            paragraphs = list(article.paragraphs)
            for part_url, part in value["parts"]:
                paragraphs += _filtered(part_url, _article(part), stats, report).paragraphs
            article = article.with_paragraphs(paragraphs)
        new = updated_row(row, article)
        report.changed += any(new.get(name) != row.get(name) for name in TEXT_FIELDS)  # text or metadata
        out.append(new)
    report.rows += len(rows)
    report.sidecars += 1
    write_atomically(path, out)


def _article(data: dict[str, Any]) -> ExtractedArticle:
    return ExtractedArticle(**{**data, "paragraphs": tuple(data["paragraphs"])})


def _filtered(url: str, article: ExtractedArticle, stats: BlockStats | None,
              report: ReextractReport) -> ExtractedArticle:
    if stats is None or not article.paragraphs:
        return article
    kept = stats.filter(site_of(url), article.paragraphs)
    if not kept or len(kept) == len(article.paragraphs):  # never empty an article on statistics alone
        return article
    report.blocks_removed += len(article.paragraphs) - len(kept)
    return article.with_paragraphs(kept)


def updated_row(row: dict[str, Any], article: ExtractedArticle) -> dict[str, Any]:
    """The row with text and metadata from ``article``; location and capture fields unchanged."""
    values: dict[str, Any] = {
        "canonical_url": article.canonical_url or row.get("final_url"),
        "title": article.title,
        "authors": article.authors,
        "date_published": article.date_published,
        "date_modified": article.date_modified,
        # A detected language yields to the one the row has (a feed's declaration, as in the crawl).
        "language": (row.get("language") or article.language) if article.language_detected else article.language,
        "sitename": article.sitename,
        "description": article.description,
        "tags": article.tags,
        "image": article.image,
        "text": article.text,
        "word_count": article.word_count,
    }
    new = dict(row)
    for name in TEXT_FIELDS:
        value = values[name]
        if value in (None, []) and name not in ("text", "word_count"):
            value = row.get(name, value)  # e.g. a title or date from a feed hint
        new[name] = value
    new["extractor"] = {**extractor_info(), "mode": "reextract"}
    return new


def write_atomically(path: Path, rows: list[dict[str, Any]]) -> None:
    """NAME.jsonl.tmp, flushed to disk, then renamed over NAME.jsonl: readers see old or new, never half."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(dumps(row) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def reextract_folder(directory: Path, options: ExtractionOptions | None = None, min_docs: int = 3,
                     learn: bool = True, workers: int = 1, wait: float = 0.0,
                     sites_dir: Path | None = None) -> tuple[list[str], ReextractReport]:
    """``newsarchive reextract DIR``: ``reextract`` under the folder's run lock, so that no crawl
    appends to a sidecar while it is rewritten. Files a killed crawl left are recovered first, as the
    next crawl would (returned as lines to print). Raises ``ArchiveLocked`` while a crawl runs."""
    from newsarchive.lockfile import RunLock
    from newsarchive.recovery import recover
    from newsarchive.state import open_state
    from newsarchive.warc_writer import OPEN_SUFFIX

    lock = RunLock(directory)
    lock.acquire(wait)
    try:
        recovered: list[str] = []
        if lock.previous is not None or any(directory.rglob("*" + OPEN_SUFFIX)):
            state = open_state(directory)
            try:
                recovery = recover(directory, state, since=lock.previous.started if lock.previous else None)
            finally:
                state.close()
            recovered = recovery.lines()
        return recovered, reextract(directory, options, min_docs=min_docs, learn=learn, workers=workers,
                                    sites_dir=sites_dir)
    finally:
        lock.release()
