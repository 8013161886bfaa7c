"""Clean article text and metadata from one HTML page: the only module that imports trafilatura.

Runs in extraction worker processes, so everything here is a pure function of its arguments and
returns picklable values.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib.metadata import version
from typing import Any

from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

EXTRACTOR_NAME = "trafilatura"
_SPACES = re.compile(r"[ \t\u00a0]+")


@cache
def extractor_info() -> dict[str, str]:
    """Name and version of the extractor, recorded in every sidecar row."""
    from newsarchive import __version__

    return {"name": EXTRACTOR_NAME, "version": version("trafilatura"), "newsarchive": __version__}


@dataclass(frozen=True)
class ExtractionOptions:
    """trafilatura's knobs, from NEWSARCHIVE_EXTRACT_* settings."""

    favor_precision: bool = False
    favor_recall: bool = False
    include_comments: bool = False
    include_tables: bool = True
    include_links: bool = False
    fast: bool = False
    min_words: int = 20
    drop_selectors: tuple[str, ...] = field(default=())

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ExtractionOptions:
        bias = str(settings.get("NEWSARCHIVE_EXTRACT_BIAS", "balanced")).lower()
        if bias not in ("balanced", "precision", "recall"):
            raise ValueError(f"NEWSARCHIVE_EXTRACT_BIAS must be balanced, precision or recall, got {bias!r}")
        return cls(
            favor_precision=bias == "precision",
            favor_recall=bias == "recall",
            include_comments=settings.getbool("NEWSARCHIVE_EXTRACT_COMMENTS", False),
            include_tables=settings.getbool("NEWSARCHIVE_EXTRACT_TABLES", True),
            include_links=settings.getbool("NEWSARCHIVE_EXTRACT_LINKS", False),
            fast=settings.getbool("NEWSARCHIVE_EXTRACT_FAST", False),
            min_words=settings.getint("NEWSARCHIVE_MIN_WORDS", 20),
            drop_selectors=tuple(settings.getlist("NEWSARCHIVE_EXTRACT_DROP_SELECTORS")),
        )


@dataclass(frozen=True)
class ExtractedArticle:
    """What a researcher gets from one page."""

    title: str | None
    authors: list[str]
    date_published: str | None
    date_modified: str | None
    language: str | None
    sitename: str | None
    description: str | None
    tags: list[str]
    canonical_url: str | None
    image: str | None
    text: str

    @property
    def word_count(self) -> int:
        return len(self.text.split())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def split_list(values: Any) -> list[str]:
    """'a, b; c' or ['a, b'] -> ['a', 'b', 'c'], order kept, duplicates dropped."""
    if not values:
        return []
    items = values if isinstance(values, list | tuple) else [values]
    out: list[str] = []
    for item in items:
        for part in re.split(r"[,;|]", str(item)):
            part = _SPACES.sub(" ", part).strip()
            if part and part not in out:
                out.append(part)
    return out


def clean_text(text: str) -> str:
    """Paragraphs on their own lines, runs of spaces folded, no empty lines."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def extract_article(html: str, url: str, options: ExtractionOptions | None = None) -> ExtractedArticle | None:
    """The article on a page, or None when the page holds no article text."""
    import trafilatura

    options = options or ExtractionOptions()
    if options.drop_selectors:
        html = _drop_selected(html, options.drop_selectors)
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=options.include_comments,
        include_tables=options.include_tables,
        include_links=options.include_links,
        favor_precision=options.favor_precision,
        favor_recall=options.favor_recall,
        fast=options.fast,
        deduplicate=False,
    )
    if document is None:
        return None
    meta = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    text = clean_text(meta.get("text") or "")
    if len(text.split()) < options.min_words:  # menus, empty shells, error pages: no article here
        return None
    return ExtractedArticle(
        title=meta.get("title") or None,
        authors=split_list(meta.get("author")),
        date_published=meta.get("date") or None,
        date_modified=None,
        language=meta.get("language") or None,
        sitename=meta.get("sitename") or None,
        description=meta.get("description") or None,
        tags=split_list(meta.get("tags")),
        canonical_url=meta.get("url") or None,
        image=meta.get("image") or None,
        text=text,
    )


def _drop_selected(html: str, selectors: tuple[str, ...]) -> str:
    """Removes elements matching CSS selectors (per-site rules) before extraction."""
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(html)
    except Exception:
        return html
    for selector in selectors:
        for element in tree.cssselect(selector):
            element.drop_tree()
    return lxml_html.tostring(tree, encoding="unicode")
