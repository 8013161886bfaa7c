"""Sitemaps (indexes, url sets, gzipped, Google News) on Scrapy's own streaming `Sitemap` parser.

Scrapy's `Sitemap` walks the document with lxml's iterparse, clearing each entry once read, so a
sitemap with millions of entries is never held as a tree; it also never resolves entities. Two things
are added here: the `news:` block (publication date, title, language) that Scrapy flattens away, and
the refusal of documents that declare entities (billion laughs, XXE). The body itself is bounded by
DOWNLOAD_MAXSIZE, also after gunzip.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import lxml.etree
from scrapy.http import Response
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap

from newsarchive.feeds import parse_date
from newsarchive.safexml import local_name, refuse_entities, refuse_entity_prolog

SITEMAP_TYPES = ("urlset", "sitemapindex")


class NotASitemap(ValueError):
    """The document is not a sitemap (HTML, another XML vocabulary, unparseable, or too big unpacked)."""


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: str | None = None  # ISO 8601
    title: str | None = None  # news:title
    date_published: str | None = None  # news:publication_date
    language: str | None = None  # news:language


class NewsSitemap(Sitemap):
    """Scrapy's streaming Sitemap, keeping Google News fields and refusing entity declarations."""

    __slots__ = ("root",)

    def __init__(self, body: bytes) -> None:  # same parser options as Scrapy's, plus no_network
        refuse_entity_prolog(body)
        self.xmliter = lxml.etree.iterparse(
            BytesIO(body), recover=True, remove_comments=True, resolve_entities=False, no_network=True,
            huge_tree=False, remove_blank_text=True, collect_ids=False, remove_pis=True,
            events=("start", "end"),
        )
        try:
            _, self.root = next(self.xmliter)
        except (StopIteration, lxml.etree.XMLSyntaxError):
            raise NotASitemap("not well-formed XML") from None
        refuse_entities(self.root.getroottree())
        self.type = self._get_tag_name(self.root)

    def _process_sitemap_element(self, elem: lxml.etree._Element) -> dict[str, Any] | None:
        news = next((child for child in elem if local_name(child) == "news"), None)
        fields: dict[str, Any] = {}
        if news is not None:
            for child in news.iter():
                name = local_name(child)
                if name in ("publication_date", "title", "language") and child.text:
                    fields["news_" + name] = child.text.strip()
        entry = super()._process_sitemap_element(elem)
        if entry is not None:
            entry.update(fields)
        return entry


def sitemap_body(response: Response, max_size: int) -> bytes:
    """The XML of a sitemap response, gunzipped (bounded by max_size) when it is a .gz file."""
    if gzip_magic_number(response):
        try:
            return gunzip(response.body, max_size=max_size)
        except _DecompressionMaxSizeExceeded:
            raise NotASitemap(f"larger than {max_size} bytes unpacked") from None
        except OSError as exc:
            raise NotASitemap(f"broken gzip data: {exc}") from None
    return response.body


def open_sitemap(body: bytes) -> NewsSitemap:
    """A sitemap ready to iterate; NotASitemap for other documents, UnsafeXML for entity declarations."""
    sitemap = NewsSitemap(body)
    if sitemap.type not in SITEMAP_TYPES:
        raise NotASitemap(f"root element is <{sitemap.type or '?'}>, not urlset or sitemapindex")
    return sitemap


def iter_entries(sitemap: NewsSitemap) -> Iterator[SitemapEntry]:
    """The entries, one at a time, as they are parsed."""
    try:
        for raw in sitemap:
            loc = (raw.get("loc") or "").strip()
            if not loc:
                continue
            yield SitemapEntry(
                url=loc,
                lastmod=parse_date(raw.get("lastmod")),
                title=raw.get("news_title") or None,
                date_published=parse_date(raw.get("news_publication_date")),
                language=raw.get("news_language") or None,
            )
    except lxml.etree.XMLSyntaxError:
        return  # recover=True makes this rare; what was read so far stands
