"""Which links are worth fetching as articles, judged by the URL alone (before any request).

Rules that hold on any news site: media and documents by file extension (Scrapy's own list),
tag/author/category/login/pagination pages by URL shape (courlan's navigation and crawlability checks
plus pagination patterns), short slash-terminated paths as section fronts, and long slugs, dates or
numeric ids as articles. Whatever stays "unknown" is fetched and judged by the page (`pagetype`).
"""

from __future__ import annotations

import re
from enum import Enum
from posixpath import splitext
from urllib.parse import urldefrag, urlsplit

import courlan
from scrapy.linkextractors import IGNORED_EXTENSIONS

MEDIA_EXTENSIONS = frozenset(IGNORED_EXTENSIONS) | {"m3u8", "mpd", "epub", "gz", "tgz", "ics", "vcf", "xml"}
MEDIA_TYPES = ("video/", "audio/", "image/", "font/")
DOCUMENT_TYPES = frozenset({
    "application/pdf", "application/zip", "application/gzip", "application/x-gzip", "application/x-tar",
    "application/vnd.rar", "application/x-7z-compressed", "application/msword", "application/epub+zip",
    "application/vnd.ms-excel", "application/vnd.ms-powerpoint", "application/x-shockwave-flash",
    "application/vnd.apple.mpegurl", "application/dash+xml", "application/x-mpegurl",
})
_PAGINATION = re.compile(
    r"(?:[?&](?:page|paged|p|pg|seite|pagina|start|offset)=\d+)|(?:/(?:page|seite|pagina)/?\d+/?$)",
    re.IGNORECASE,
)
_DATE_PATH = re.compile(r"/(?:19|20)\d{2}/(?:0?[1-9]|1[0-2])(?:/|$)")
_LONG_NUMBER = re.compile(r"\d{4,}")
_WORD_SPLIT = re.compile(r"[-_+.]+")


class LinkKind(Enum):
    MEDIA = "media"  # video, audio, images, documents, archives: never fetched as articles
    NAVIGATION = "navigation"  # tag, author, category, login, pagination: never fetched
    SECTION = "section"  # a section front: followed (depth-limited) by the site spider only
    ARTICLE = "article"  # looks like an article: fetched
    UNKNOWN = "unknown"  # fetched, then judged by the page itself


def clean_link(url: str) -> str:
    """The URL without fragment and tracking parameters (utm_*, …), so that one article is one URL."""
    try:
        cleaned = courlan.clean_url(url) or url
    except ValueError:
        cleaned = url
    return urldefrag(cleaned)[0]


def media_extension(url: str) -> str | None:
    """The file extension when it names a media file or document, else None."""
    path = urlsplit(url).path.lower()
    if path.endswith(".tar.gz"):
        return "tar.gz"
    extension = splitext(path)[1].lstrip(".")
    return extension if extension in MEDIA_EXTENSIONS else None


def is_media_type(content_type: str) -> bool:
    """True for video, audio, images, fonts, PDFs, office documents and archives."""
    kind = content_type.split(";")[0].strip().lower()
    return kind.startswith(MEDIA_TYPES) or kind in DOCUMENT_TYPES


def classify(url: str) -> LinkKind:
    """What a link most likely is, from its URL alone."""
    if media_extension(url):
        return LinkKind.MEDIA
    if _PAGINATION.search(url) or courlan.is_navigation_page(url) or courlan.is_not_crawlable(url):
        return LinkKind.NAVIGATION
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        return LinkKind.SECTION  # the home page
    last = splitext(segments[-1])[0]
    words = [w for w in _WORD_SPLIT.split(last) if w]
    if len(words) >= 3 or _LONG_NUMBER.search(parts.path) or _DATE_PATH.search(parts.path):
        return LinkKind.ARTICLE
    if parts.path.endswith("/") and len(segments) <= 2 and not parts.query:
        return LinkKind.SECTION
    return LinkKind.UNKNOWN
