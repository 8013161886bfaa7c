"""`newsarchive index` and `newsarchive wacz`: the archive in the standard replay formats.

CDXJ indexes come from cdxj-indexer (`write_cdx_index`, the function behind its CLI), WACZ packages
from the `wacz` package (`wacz create`, given a pages list made from the sidecars' articles so that
ReplayWeb.page and pywb list the articles by headline).
"""

from __future__ import annotations

import io
import json
import logging
import os
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from cdxj_indexer.main import write_cdx_index

from newsarchive.corpus_rows import Progress, iter_rows
from newsarchive.verify import warc_files

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexResult:
    warcs: int
    lines: int
    path: Path


@dataclass(frozen=True)
class WACZResult:
    warcs: int
    pages: int
    path: Path


def _inputs(root: Path) -> list[Path]:
    if not root.is_dir():
        raise FileNotFoundError(f"no archive folder at {root}")
    inputs = warc_files(root)
    if not inputs:
        raise FileNotFoundError(f"no WARC files under {root}")
    return inputs


def index_archive(root: Path, out: Path | None = None) -> IndexResult:
    """One sorted CDXJ index of every WARC under `root`, file names relative to `root`.

    Default `ROOT/index.cdxj`, which pywb reads as a collection's index. Written to a `.part` file
    and renamed, so a reader never sees half an index.
    """
    inputs = _inputs(root)
    out = out or root / "index.cdxj"
    part = out.with_name(f".{out.name}.part")
    try:
        write_cdx_index(str(part), [str(p) for p in inputs], {"sort": True, "post_append": True,
                                                              "dir_root": str(root)})
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    with open(out, encoding="utf-8") as fh:
        lines = sum(1 for _ in fh)
    logger.info("Indexed %d WARC files into %s (%d lines)", len(inputs), out, lines)
    return IndexResult(len(inputs), lines, out)


def write_pages(root: Path, pages: Path, progress: Progress | None = None) -> int:
    """pages.jsonl (WACZ's json-pages-1.0) listing each archived article: URL, capture time, headline."""
    count = 0
    with open(pages, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "Articles"}) + "\n")
        for row in iter_rows(root, progress):
            page = {"url": row.get("final_url") or row["url"], "ts": row["warc_date"],
                    "title": row.get("title") or row.get("final_url") or row["url"]}
            fh.write(json.dumps(page, ensure_ascii=False) + "\n")
            count += 1
    return count


def create_wacz(root: Path, out: Path, work_dir: Path, progress: Progress | None = None) -> WACZResult:
    """A WACZ of every WARC under `root`, with the articles as its pages list.

    WARC names must be unique across the archive's date folders (they are: they carry a timestamp,
    serial, host and pid), since a WACZ keeps them flat in `archive/`.
    """
    from wacz.main import main as wacz_main

    inputs = _inputs(root)
    names = [p.name for p in inputs]
    if len(set(names)) != len(names):
        raise ValueError("two WARC files under the archive share a name; a WACZ keeps them in one folder")
    pages = work_dir / "pages.jsonl"
    count = write_pages(root, pages, progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f".{out.name}.part")
    output = io.StringIO()
    try:
        with redirect_stdout(output):  # wacz prints its progress; we log it
            status = wacz_main(["create", "-o", str(part), "-p", str(pages), *map(str, inputs)])
        logger.debug("wacz create: %s", output.getvalue())
        if status not in (0, None):
            raise RuntimeError(f"wacz create failed ({status}): {output.getvalue()[-500:]}")
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    for line in output.getvalue().splitlines():
        if "Invalid passed page" in line:
            logger.warning("wacz: %s", line)
    logger.info("Packed %d WARC files and %d pages into %s", len(inputs), count, out)
    return WACZResult(len(inputs), count, out)


def validate_wacz(path: Path) -> tuple[bool, str]:
    """`wacz validate -f PATH`: (passed, what it said)."""
    from wacz.main import main as wacz_main

    output = io.StringIO()
    with redirect_stdout(output):
        status = wacz_main(["validate", "-f", str(path)])
    return status == 0, output.getvalue()
