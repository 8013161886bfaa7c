"""What flows from the spiders to the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from w3lib.encoding import html_to_unicode

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
    record: RecordLocation


@dataclass
class FetchedPage:
    """An HTML page that was fetched and archived, waiting for extraction."""

    url: str  # as first requested (before redirects)
    final_url: str
    status: int
    content_type: str
    fetched_at: str
    body: bytes = field(repr=False)  # as served, Content-Encoding undone; kept out of logs
    encoding: str  # the one Scrapy chose (header, BOM, <meta> or sniffed): decode with page_text()
    record: RecordLocation  # the response record in the WARC
    hints: dict[str, Any] = field(default_factory=dict)  # from a feed or sitemap: title, date, authors
    rules: PageRules = field(default_factory=PageRules)
    more_pages: list[PagePart] = field(default_factory=list)  # pages 2… of a multi-page article
    supersedes: str | None = None  # record id of the earlier capture of this article, when it changed

    @property
    def html(self) -> str:
        """The page as text, exactly as Scrapy's `response.text` would give it (decoded on use)."""
        return page_text(self.body, self.encoding)


def page_text(body: bytes, encoding: str) -> str:
    """What `TextResponse.text` does with a known encoding; cheap to call in an extraction worker."""
    return html_to_unicode(f"charset={encoding}", body)[1]
