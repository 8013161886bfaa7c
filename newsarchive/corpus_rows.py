"""Article rows of an archive folder, as a research corpus sees them: one row per article capture.

Shared by `export` and `stats`: reads sidecars row by row (memory stays flat), names each row's site,
picks the latest capture of each URL, and applies the user's filters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsarchive.sidecar import iter_sidecars, read_rows

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]
"""Called with a number of sidecar bytes read, so that a CLI can show a progress bar."""


def site_of(url: str) -> str:
    """Host of a URL, lower case, without `www.`, with the port when it is not the default one.

    Two servers on one host but different ports are different sites (two origins), which is also how
    the tests make two sites on 127.0.0.1.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return f"{host}:{port}" if port and port != default else host


def capture_key(row: dict[str, Any]) -> str:
    """Captures of the same article: the URL as requested (a recrawl requests it again).

    Not `canonical_url`: sites that point every page's canonical link at their home page would
    collapse a whole site into one article.
    """
    return str(row.get("url") or row.get("final_url") or "")


def sidecar_bytes(root: Path) -> int:
    """Total size of the sidecars, the unit of the progress bars."""
    return sum(path.stat().st_size for path in iter_sidecars(root))


def iter_rows(root: Path, progress: Progress | None = None) -> Iterator[dict[str, Any]]:
    """Every sidecar row under `root`, in crawl order, with `site` added."""
    for path in iter_sidecars(root):
        for row in read_rows(path):
            if not isinstance(row, dict) or "warc_record_id" not in row:
                continue
            row["site"] = site_of(str(row.get("final_url") or row.get("url") or ""))
            yield row
        if progress is not None:
            progress(path.stat().st_size)


def latest_captures(root: Path, progress: Progress | None = None) -> set[str]:
    """Record ids of the latest capture of each URL (one pass; memory: one entry per URL).

    Latest by `fetched_at`, ties broken by position in the archive (later wins).
    """
    best: dict[str, tuple[str, str]] = {}
    for row in iter_rows(root, progress):
        key = capture_key(row)
        stamp = str(row.get("fetched_at") or "")
        current = best.get(key)
        if current is None or stamp >= current[0]:
            best[key] = (stamp, str(row["warc_record_id"]))
    return {record_id for _, record_id in best.values()}


def parse_day(value: str | None) -> date | None:
    """The day of an ISO 8601 date or date-time (`2026-11-20`, `2026-11-20T08:00:00+00:00`)."""
    if not value or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class RowFilter:
    """Which articles go into a corpus. Empty fields select everything."""

    since: date | None = None
    until: date | None = None
    sites: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    min_words: int = 0
    only_ids: frozenset[str] | None = field(default=None, compare=False)

    def accepts(self, row: dict[str, Any]) -> bool:
        """True for rows to keep. With --since/--until, rows without a publication date are left out."""
        if self.only_ids is not None and row.get("warc_record_id") not in self.only_ids:
            return False
        if self.since or self.until:
            day = parse_day(row.get("date_published"))
            if day is None or (self.since and day < self.since) or (self.until and day > self.until):
                return False
        if self.sites and not any(_same_site(row.get("site") or "", site) for site in self.sites):
            return False
        if self.languages and (row.get("language") or "").lower() not in self.languages:
            return False
        return int(row.get("word_count") or 0) >= self.min_words


def _same_site(site: str, wanted: str) -> bool:
    """`example.com` selects example.com and its subdomains (news.example.com)."""
    wanted = wanted.lower().removeprefix("www.")
    return site == wanted or site.endswith("." + wanted)
