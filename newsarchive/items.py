"""What flows from the spiders to the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from newsarchive.warc_writer import RecordLocation


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
    supersedes: str | None = None  # record id of the earlier capture of this article, when it changed
