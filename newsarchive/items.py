"""What flows from the spiders to the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from newsarchive.warc_writer import RecordLocation


@dataclass(frozen=True)
class PageRules:
    """Per-crawl/per-site rules the pipeline applies to an article after fetching it."""

    drop_selectors: tuple[str, ...] = ()  # CSS selectors removed before extraction (site configs)
    since: date | None = None  # drop articles published before this day (extracted or hinted date)
    languages: frozenset[str] = frozenset()  # keep only these ISO 639-1 codes (empty: all)


@dataclass
class PagePart:
    """A later page of a multi-page article: archived on its own, its text joined to the first page's."""

    url: str
    final_url: str
    html: str
    record: RecordLocation


@dataclass
class FetchedPage:
    """An HTML page that was fetched and archived, waiting for extraction."""

    url: str  # as first requested (before redirects)
    final_url: str
    status: int
    content_type: str
    fetched_at: str
    html: str
    record: RecordLocation  # the response record in the WARC
    hints: dict[str, Any] = field(default_factory=dict)  # from a feed or sitemap: title, date, authors
    rules: PageRules = field(default_factory=PageRules)
    more_pages: list[PagePart] = field(default_factory=list)  # pages 2… of a multi-page article
    supersedes: str | None = None  # record id of the earlier capture of this article, when it changed
