"""Is a fetched page an article or an index of articles, and does the article go on on another page?

Publishers say what a page is (og:type=article, JSON-LD NewsArticle, CollectionPage); when they do
not, the shape decides: index pages are mostly links, articles are mostly paragraphs. That check runs
on the parsel selector Scrapy already built; the next-page links are read by the extraction worker
from the tree it parses anyway (``next_page_links``), so an article page is parsed once.
"""

from __future__ import annotations

import json
import re
from posixpath import splitext
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:  # only for type hints: the functions take any object with Scrapy's response methods
    from scrapy.http import TextResponse

ARTICLE_TYPES = frozenset({
    "Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle",
    "BackgroundNewsArticle", "ReviewNewsArticle", "BlogPosting", "LiveBlogPosting", "Report",
    "ScholarlyArticle", "TechArticle", "SatiricalArticle",
})
INDEX_TYPES = frozenset({"CollectionPage", "ItemList", "SearchResultsPage", "ProfilePage"})
MIN_ARTICLE_WORDS = 80  # paragraph words an undeclared page needs to count as an article
MAX_LINK_DENSITY = 0.5  # share of the page's words inside links above which it is an index
_NEXT_TEXT = re.compile(
    r"^\s*(next( page)?|continue reading|weiter|nächste seite|page suivante|suivant|siguiente|"
    r"pagina successiva|volgende)\s*[»›>→]*\s*$", re.IGNORECASE,
)


def _jsonld_types(response: TextResponse) -> set[str]:
    types: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            kind = node.get("@type")
            for name in kind if isinstance(kind, list) else [kind]:
                if isinstance(name, str):
                    types.add(name.rsplit("/", 1)[-1])
            walk(node.get("@graph"))

    for script in response.xpath('//script[@type="application/ld+json"]/text()').getall():
        try:
            walk(json.loads(script))
        except ValueError:
            continue
    return types


def _words(texts: list[str]) -> int:
    return sum(len(text.split()) for text in texts)


def page_kind(response: TextResponse, listed: bool = False) -> tuple[bool, str]:
    """(is_article, why): the publisher's own markup first, then paragraphs against links. A page that
    a feed or sitemap `listed` as an entry is only refused on signs of an index, not for being short."""
    types = _jsonld_types(response)
    if types & ARTICLE_TYPES:
        return True, "JSON-LD " + min(types & ARTICLE_TYPES)
    og_type = (response.xpath('//meta[@property="og:type"]/@content').get() or "").strip().lower()
    if og_type == "article":
        return True, "og:type=article"
    if types & INDEX_TYPES:
        return False, "JSON-LD " + min(types & INDEX_TYPES)
    body = response.xpath("//body")
    all_words = _words(body.xpath(".//text()[not(ancestor::script) and not(ancestor::style)]").getall())
    link_words = _words(body.xpath(".//a//text()").getall())
    if all_words and link_words / all_words > MAX_LINK_DENSITY:
        return False, f"link density {link_words / all_words:.2f}"
    if len(response.xpath("//article")) >= 3:
        return False, "several <article> teasers"
    paragraph_words = _words(body.xpath(".//p[not(ancestor::a)]//text()[not(ancestor::a)]").getall())
    if paragraph_words < MIN_ARTICLE_WORDS and not listed:
        return False, f"only {paragraph_words} words of paragraphs"
    return True, f"{paragraph_words} words of paragraphs"


def _stem(path: str) -> str:
    return splitext(path.rstrip("/"))[0]


def continues(first_url: str, candidate: str) -> bool:
    """True when `candidate` looks like a later page of the article at `first_url` (same host, same
    path with another query, or a path that extends the first page's): a rel=next to *another* article
    (as some blogs emit) is not followed."""
    first, other = urlsplit(first_url), urlsplit(candidate)
    if first.netloc != other.netloc or candidate == first_url:
        return False
    if first.path == other.path:
        return first.query != other.query
    return _stem(other.path).startswith(_stem(first.path)) and len(_stem(other.path)) > len(_stem(first.path))


_NOT_ASCII_COMPATIBLE = re.compile(r"utf-?16|utf-?32|ucs-?2|ucs-?4|utf-?7", re.IGNORECASE)
_HTML_TAG = re.compile(rb"<html(?=[\s>])[^>]*>", re.IGNORECASE)
_LANG_ATTR = re.compile(rb"""\slang\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)


def html_lang(response: TextResponse) -> str | None:
    """The page's <html lang>, read from the start tag in the bytes (no parse); parsed only when no
    <html> tag opens the first 64 KB."""
    ascii_bytes = not _NOT_ASCII_COMPATIBLE.match(response.encoding or "")
    tag = _HTML_TAG.search(response.body, 0, 65536) if ascii_bytes else None
    if tag is None:
        return response.xpath("/html/@lang").get()
    attr = _LANG_ATTR.search(tag.group(0))
    if attr is None:
        return None
    value = next(group for group in attr.groups() if group is not None)
    return value.decode(response.encoding, errors="replace") or None


def next_page_links(root: Any, base_url: str) -> tuple[str, ...]:
    """Absolute URLs of the links that say "next page" on a parsed page (lxml): rel=next first, then
    links whose short text is a "next page" word. Run where the page is parsed anyway (the extraction
    worker, before cleaning removes pagination), so that no page is parsed twice for it.

    What the XPaths ``//link[@rel="next"]/@href | //a[contains(concat(" ", @rel, " "), " next ")]/@href``
    and ``//a[@href][string-length(normalize-space(.)) < 40]`` (then the text test) find, in one walk over
    the document's links, where libxml2 built the text of every anchor twice: most anchors are one
    text, rejected by the regular expression at once; the length test runs only on those that pass.
    """
    rel_hrefs: list[str] = []
    text_hrefs: list[str] = []
    for element in root.getroottree().getroot().iter("link", "a"):
        href = element.get("href")
        if href is None:
            continue
        rel = element.get("rel")
        if element.tag == "link":
            if rel == "next":
                rel_hrefs.append(href)
            continue
        if rel is not None and " next " in f" {rel} ":
            rel_hrefs.append(href)
        if _says_next(element):
            text_hrefs.append(href)
    links: dict[str, None] = {}
    for href in rel_hrefs + text_hrefs:
        try:
            links.setdefault(urljoin(base_url, href.strip()), None)
        except ValueError:  # a malformed href (bad IPv6 literal): not a link anyone can follow
            continue
    return tuple(links)


#: XPath's white space, which ``normalize-space`` folds (Python's ``str.split`` knows more).
_XPATH_SPACE = re.compile(r"[ \t\n\r]+")


def _says_next(anchor: Any) -> bool:
    """Whether the anchor's text (its pieces joined by spaces) is a "next page" word, and its XPath
    ``string-length(normalize-space(.))`` is under 40."""
    text = " ".join(anchor.itertext()) if len(anchor) else anchor.text or ""
    if not _NEXT_TEXT.match(text):
        return False
    return len(_XPATH_SPACE.sub(" ", "".join(anchor.itertext())).strip(" ")) < 40


def next_page(links: tuple[str, ...], first_url: str, seen: set[str]) -> str | None:
    """The first of a page's next-page ``links`` that continues the article at ``first_url`` and is
    not one of its pages already."""
    return next((url for url in links if url not in seen and continues(first_url, url)), None)
