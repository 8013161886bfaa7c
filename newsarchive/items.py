"""What flows from the spiders to the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from w3lib.encoding import html_to_unicode

from newsarchive.warc_writer import RecordLocation


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

    @property
    def html(self) -> str:
        """The page as text, exactly as Scrapy's `response.text` would give it (decoded on use)."""
        return page_text(self.body, self.encoding)


def page_text(body: bytes, encoding: str) -> str:
    """What `TextResponse.text` does with a known encoding; cheap to call in an extraction worker."""
    return html_to_unicode(f"charset={encoding}", body)[1]
