"""RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom feeds, read into entries with the hints the sidecar can use.

A small reader on lxml (through `safexml`) rather than feedparser: feedparser falls back to a loose
parser of its own on bad XML, and what it does with entity declarations there is not something to rely
on for input from strangers. Namespaces are matched by local name, so RSS 0.90/0.91/0.92/2.0 and the
various Dublin Core prefixes all read the same.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree

from newsarchive.safexml import local_name, parse_xml

FEED_ROOTS = {"rss": "rss", "RDF": "rdf", "feed": "atom"}
_EMAIL_NAME = re.compile(r"^\s*\S+@\S+\s*\((?P<name>[^)]+)\)\s*$")


class NotAFeed(ValueError):
    """The document is not RSS, RDF or Atom (HTML, another XML vocabulary, or unparseable)."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str | None = None
    date_published: str | None = None  # ISO 8601
    authors: list[str] = field(default_factory=list)
    language: str | None = None


@dataclass(frozen=True)
class Feed:
    kind: str  # rss, rdf or atom
    title: str | None
    entries: list[FeedEntry]
    errors: list[str] = field(default_factory=list)  # XML errors recovered from (malformed feeds)


def parse_date(value: str | None) -> str | None:
    """RFC 822 (RSS) or ISO 8601 (Atom, Dublin Core) as ISO 8601; None when unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.isoformat() if parsed else None


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    return text or None


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    return (child for child in element if local_name(child) == name)


def _child(element: etree._Element, *names: str) -> etree._Element | None:
    for name in names:
        for child in _children(element, name):
            return child
    return None


def _author_name(raw: str) -> str:
    """'jane@example.com (Jane Doe)' -> 'Jane Doe' (RSS 2.0's author form)."""
    match = _EMAIL_NAME.match(raw)
    return match.group("name").strip() if match else raw.strip()


def _rss_entry(item: etree._Element, base_url: str, language: str | None) -> FeedEntry | None:
    link = _text(_child(item, "link"))
    if not link:
        guid = _child(item, "guid")
        if guid is not None and guid.get("isPermaLink", "true").lower() != "false":
            link = _text(guid)
    if not link:
        link = item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
    if not link:
        return None
    authors = [_author_name(a) for a in (_text(e) for e in item if local_name(e) in ("author", "creator")) if a]
    return FeedEntry(
        url=urljoin(base_url, link),
        title=_text(_child(item, "title")),
        date_published=parse_date(_text(_child(item, "pubDate", "date", "issued", "created"))),
        authors=authors,
        language=_text(_child(item, "language")) or language,
    )


def _atom_link(entry: etree._Element) -> str | None:
    fallback = None
    for link in _children(entry, "link"):
        rel = link.get("rel", "alternate")
        if rel == "alternate" and link.get("type", "text/html") in ("text/html", "application/xhtml+xml"):
            return link.get("href")
        if rel == "alternate" and fallback is None:
            fallback = link.get("href")
    return fallback


def _atom_entry(entry: etree._Element, base_url: str, language: str | None) -> FeedEntry | None:
    link = _atom_link(entry)
    if not link:
        return None
    base = urljoin(base_url, entry.get("{http://www.w3.org/XML/1998/namespace}base") or "")
    authors = [name for name in (_text(_child(a, "name")) for a in _children(entry, "author")) if name]
    return FeedEntry(
        url=urljoin(base, link),
        title=_text(_child(entry, "title")),
        date_published=parse_date(_text(_child(entry, "published", "issued", "updated", "modified"))),
        authors=authors,
        language=entry.get("{http://www.w3.org/XML/1998/namespace}lang") or language,
    )


def parse_feed(body: bytes, base_url: str) -> Feed:
    """The feed's entries; NotAFeed for anything else, UnsafeXML for entity declarations."""
    root, errors = parse_xml(body.lstrip(b" \t\r\n"))  # stray blank lines before <?xml are common
    if root is None:
        raise NotAFeed("not well-formed XML" + (f" ({errors[0]})" if errors else ""))
    kind = FEED_ROOTS.get(local_name(root))
    if kind is None:
        raise NotAFeed(f"root element is <{local_name(root) or '?'}>, not rss, rdf:RDF or feed")
    if kind == "atom":
        base = urljoin(base_url, root.get("{http://www.w3.org/XML/1998/namespace}base") or "")
        language = root.get("{http://www.w3.org/XML/1998/namespace}lang")
        entries = [_atom_entry(e, base, language) for e in _children(root, "entry")]
        return Feed(kind, _text(_child(root, "title")), [e for e in entries if e], errors)
    channel = _child(root, "channel")
    language = _text(_child(channel, "language")) if channel is not None else None
    # RSS 0.9x/2.0 keep items in <channel>; RSS 1.0 (RDF) and 0.90 keep them beside it.
    items = list(_children(channel, "item")) if channel is not None else []
    items += list(_children(root, "item"))
    entries = [_rss_entry(item, base_url, language) for item in items]
    title = _text(_child(channel, "title")) if channel is not None else None
    return Feed(kind, title, [e for e in entries if e], errors)
