"""Article metadata from a page's own structured statements, normalised for researchers.

Why a module of its own: trafilatura's metadata is a good start, but it searches dates in the whole
page's text (a header clock becomes the publication date), keeps bylines as written ("By X · 12
March 2024") and leaves URLs relative. Here the publisher's structured statements come first
(JSON-LD, Open Graph / ``article:*`` / ``itemprop`` meta, ``<time datetime>`` inside the article),
then the URL, then trafilatura, then htmldate without its extensive text search. Values are
normalised: ISO 8601 dates (with time and offset when the source gives them), author names one per
list item, ISO 639-1 language codes, absolute http(s) URLs, tags split into single tags.

``collect`` reads the raw page tree (before any cleaning removes header or tag lists) and
``resolve`` combines it with trafilatura's values and the extracted text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree
from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

_ARTICLE_TYPE = re.compile(r"(Article|BlogPosting|Report|LiveBlogPosting)$")
_TAG_HREF = re.compile(r"/(tags?|topics?|keywords?|themen?|schlagw\w*|etiquetas?|sujets?)/", re.I)
_SPACES = re.compile(r"\s+")
_URLSPLIT_CHANGES = re.compile(r"[\t\r\n\[\]]")
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_MONTHS = (r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?|oct(ober)?"
           r"|nov(ember)?|dec(ember)?")
_DATE_TEXT = re.compile(
    rf"\b(\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{1,4}}|\d{{1,2}}(st|nd|rd|th)?\s+({_MONTHS})\.?,?(\s+\d{{4}})?"
    rf"|({_MONTHS})\.?\s+\d{{1,2}}(st|nd|rd|th)?,?(\s+\d{{4}})?|\d{{1,2}}:\d{{2}}(\s*[ap]\.?m\.?)?"
    rf"|(updated|published|posted)\b.*)", re.I)
_BY = re.compile(r"^\s*(by|von|par|por|di|door|av|af)\b[:\s]*", re.I)
_BYLINE_TEXT = re.compile(r"^(By|Von|Par|Por)\s+\w", re.U)
_ROLES = re.compile(
    r"\b(senior |chief |staff |contributing |special |political |foreign |news |deputy )*"
    r"(staff writer|staff reporter|reporter|correspondent|editor|writer|columnist|contributor|journalist"
    r"|photographer|analyst|staff)s?\b", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|·|•|\||/)\s*", re.I)
_URL_DATE_PATTERNS = (
    re.compile(r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?:/|$|[-_.])"),
    re.compile(r"(?<!\d)((?:19|20)\d{2})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?!\d)"),
)
_URL_DIGITS = re.compile(r"(?<!\d)((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(\d*)")
_PUBLISHED_META = ("article:published_time", "og:article:published_time", "datepublished", "pubdate", "publishdate",
                   "publish-date", "dc.date.issued", "dcterms.issued", "parsely-pub-date", "sailthru.date",
                   "date", "dc.date")
_MODIFIED_META = ("article:modified_time", "og:article:modified_time", "og:updated_time", "datemodified",
                  "dcterms.modified", "last-modified")
_AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "byl")
_IMAGE_META = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")


@dataclass
class PageFacts:
    """What the raw page says about itself, before any cleaning."""

    url: str
    meta: dict[str, str] = field(default_factory=dict)
    articles: list[dict[str, Any]] = field(default_factory=list)  # JSON-LD objects of *Article types
    objects: list[dict[str, Any]] = field(default_factory=list)  # every JSON-LD object
    html_lang: str | None = None
    canonical: str | None = None
    time_published: str | None = None
    bylines: list[str] = field(default_factory=list)
    tag_links: list[str] = field(default_factory=list)
    title_tag: str | None = None


def _types(obj: dict[str, Any]) -> list[str]:
    kind = obj.get("@type")
    return [str(k) for k in (kind if isinstance(kind, list) else [kind]) if k]


def collect(tree: HtmlElement, url: str, objects: Sequence[dict[str, Any]]) -> PageFacts:
    """Read the raw tree: meta tags, JSON-LD, canonical link, <time>, bylines and tag links."""
    facts = PageFacts(url=url, objects=list(objects))
    facts.articles = [o for o in objects if any(_ARTICLE_TYPE.search(t) for t in _types(o))]
    for element in tree.iter("meta"):
        key = (element.get("property") or element.get("name") or element.get("itemprop")
               or element.get("http-equiv") or "").strip().lower()
        content = (element.get("content") or "").strip()
        if key and content and key not in facts.meta:
            facts.meta[key] = content
    html = tree if tree.tag == "html" else tree.getroottree().getroot()
    facts.html_lang = html.get("lang") or html.get("{http://www.w3.org/XML/1998/namespace}lang")
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            facts.canonical = link.get("href")
            break
    titles = list(tree.iter("title"))
    facts.title_tag = titles[0].text_content().strip() if titles else None
    # The searches below walk the whole tree; each runs only when the statements that ``resolve``
    # prefers to its result are missing (the result would never be used otherwise).
    if not any(normalize_date(v) for v in (_ld(facts, "datePublished"), _meta(facts, _PUBLISHED_META))):
        facts.time_published = _time_in_article(tree)
    if not clean_authors(_ld_names(_ld(facts, "author"))) and not clean_authors(_meta_authors(facts)):
        facts.bylines = _bylines(tree)
    if _first(_ld(facts, "keywords"), facts.meta.get("article:tag"), facts.meta.get("news_keywords")) is None:
        facts.tag_links = _tag_links(tree)
    return facts


def _time_in_article(tree: HtmlElement) -> str | None:
    """``<time datetime>`` marked as publication time, else the first inside <article>/<main>."""
    for element in tree.xpath('//*[@itemprop="datePublished"]'):
        value = element.get("datetime") or element.get("content")
        if value:
            return str(value)
    # The first <time datetime> (in document order) inside an <article> or <main>: what the XPath
    # "//article//time[@datetime] | //main//time[@datetime]" finds first, from lxml's own tag walk.
    for element in tree.getroottree().getroot().iter("time"):
        value = element.get("datetime")
        if value is not None and any(a.tag in ("article", "main") for a in element.iterancestors()):
            return str(value)
    return None


def _outside_chrome(element: HtmlElement) -> bool:
    return not any(a.tag in ("nav", "header", "footer", "aside") for a in element.iterancestors())


def _names_author(element: HtmlElement) -> bool:
    """rel=author, itemprop=author, or "byline"/"author" in the class or "byline" in the id."""
    cls = element.get("class") or ""
    return (element.get("rel") == "author" or element.get("itemprop") == "author" or "byline" in cls
            or "author" in cls or "byline" in (element.get("id") or ""))


def _starts_with_b_v_or_p(element: HtmlElement) -> bool:
    """Whether the element's text begins (after white space) with B, V or P, as a byline in
    ``_BYLINE_TEXT`` does: read from its first text pieces, without building its whole text."""
    text = element.text  # itertext's first piece, when there is one: most elements decide here
    if text:
        start = text.lstrip()
        if start:
            return start[0] in "BVP"
    for piece in element.itertext():
        start = piece.lstrip()
        if start:
            return start[0] in "BVP"
    return False


def _bylines(tree: HtmlElement) -> list[str]:
    """Short texts of elements that name the author: rel=author, itemprop=author, *byline*/*author*."""
    found: list[str] = []
    # One walk over the document's elements in document order, as the XPath
    # '//*[@rel="author"] | //*[@itemprop="author"] | //*[contains(@class, "byline")] | ...' selects
    # them, at half its cost (libxml2 evaluates each predicate on every element, five times over).
    for element in tree.getroottree().getroot().iter(etree.Element):
        if not _names_author(element) or not _outside_chrome(element):
            continue
        text = _SPACES.sub(" ", element.text_content()).strip()
        if 0 < len(text) <= 120 and text not in found:
            found.append(text)
    if not found:  # a line that reads like a byline, whatever its markup: "By Jane Doe · 12 March 2024"
        for element in tree.iter("p", "div", "span", "address", "em", "strong"):
            # Most elements (page wrappers above all) start with other text: rejected before their
            # whole text is built and its white space folded.
            if not _starts_with_b_v_or_p(element):
                continue
            text = _SPACES.sub(" ", element.text_content()).strip()
            if len(text) <= 100 and _BYLINE_TEXT.match(text) and _outside_chrome(element):
                found.append(text)
                break
    return found


def _tag_links(tree: HtmlElement) -> list[str]:
    """Tags as links: ``rel=tag``, else the largest group of links to tag/topic pages sharing a parent."""
    tagged = [a for a in tree.iter("a") if "tag" in (a.get("rel") or "").lower().split()]
    if not tagged:
        groups: dict[HtmlElement, list[HtmlElement]] = {}
        for a in tree.iter("a"):
            href = a.get("href") or ""
            # urlsplit's path is a piece of the href, and urlsplit cannot raise, unless the href holds
            # tabs or line breaks (dropped), brackets or non-ASCII characters (checked, may raise): an
            # href without those that the pattern misses is skipped without the costlier urlsplit.
            if href.isascii() and not _URLSPLIT_CHANGES.search(href) and not _TAG_HREF.search(href):
                continue
            if _TAG_HREF.search(urlsplit(href).path or "") and _outside_chrome(a):
                groups.setdefault(a.getparent(), []).append(a)
        tagged = max(groups.values(), key=len) if groups else []
    names = [_SPACES.sub(" ", a.text_content()).strip().lstrip("#") for a in tagged]
    return [n for n in dict.fromkeys(names) if n and len(n) <= 60]


# -- normalisation ---------------------------------------------------------------------------------

def normalize_date(value: Any) -> str | None:
    """ISO 8601: ``YYYY-MM-DD``, or with time (and offset when given) when the source has one."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        match = re.match(r"((?:19|20)\d{2})-?(\d{2})-?(\d{2})", text)
        if not match:
            return None
        try:
            return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
        except ValueError:
            return None
    if not 1990 <= parsed.year <= 2100:
        return None
    if len(text) <= 10 or ((parsed.hour, parsed.minute, parsed.second) == (0, 0, 0) and parsed.tzinfo is None):
        return parsed.date().isoformat()
    return parsed.isoformat()


def date_from_url(url: str) -> str | None:
    """A date in the URL path: /2016/09/06/, 2016-09-06, or 20160906 heading a long numeric id."""
    path = urlsplit(url).path
    for pattern in _URL_DATE_PATTERNS:
        match = pattern.search(path)
        if match:
            return _valid_date(match[1], match[2], match[3])
    for match in _URL_DIGITS.finditer(path):
        rest = match[4]
        if rest == "" or len(rest) >= 6:  # exactly a date, or a date-and-time/sequence id (not a random id)
            found = _valid_date(match[1], match[2], match[3])
            if found:
                return found
    return None


def _valid_date(year: str, month: str, day: str) -> str | None:
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def clean_authors(values: Iterable[str]) -> list[str]:
    """Names from bylines: without "By", roles, dates and e-mails, split at "and", commas, "&"."""
    names: list[str] = []
    for value in values:
        text = re.sub(r"\([^)]*\)?", " ", _EMAIL.sub(" ", str(value)))  # "(Reuters)", "(@handle)"
        for part in re.split(r"\s*[·•|]\s*|\s+[-–—]\s+", text):
            part = _DATE_TEXT.sub(" ", part)
            part = _BY.sub("", _SPACES.sub(" ", part).strip())
            part = _ROLES.sub(" ", part)
            for name in _AUTHOR_SPLIT.split(part):
                name = _BY.sub("", name).strip(" \t,.:;()[]-–—")
                name = _SPACES.sub(" ", name)
                if name.isupper() and len(name) > 3:
                    name = name.title()  # "JANE DOE" -> "Jane Doe"
                if _looks_like_name(name) and name not in names:
                    names.append(name)
    return names


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return (0 < len(words) <= 5 and len(text) <= 60 and any(c.isalpha() for c in text)
            and not any(c.isdigit() for c in text) and not text.lower().startswith(("http", "www.")))


def language_code(value: Any) -> str | None:
    """``en-US``, ``en_GB``, ``EN`` -> ``en``; None when it is no language tag."""
    if not value or not isinstance(value, str):
        return None
    primary = re.split(r"[-_]", value.strip())[0].lower()
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def absolute_url(value: Any, base: str) -> str | None:
    """An absolute http(s) URL without fragment, or None."""
    if isinstance(value, dict):
        value = value.get("url") or value.get("@id")
    if isinstance(value, list):
        value = value[0] if value else None
    if not value or not isinstance(value, str):
        return None
    url = urldefrag(urljoin(base, value.strip()))[0]
    return url if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc else None


def _first(*values: Any) -> Any:
    for value in values:
        if value not in (None, "", []):
            return value
    return None


def _ld(facts: PageFacts, key: str) -> Any:
    """The first value of ``key`` in an Article object, else in any JSON-LD object."""
    for obj in (*facts.articles, *facts.objects):
        if obj.get(key) not in (None, "", []):
            return obj[key]
    return None


def _ld_names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            out.append(name.strip())
    return out


def _meta(facts: PageFacts, keys: Sequence[str]) -> str | None:
    return _first(*(facts.meta.get(k) for k in keys))


def _meta_authors(facts: PageFacts) -> list[str]:
    return [v for k in _AUTHOR_META if (v := facts.meta.get(k)) and not v.startswith("http")]


def _split_tags(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    out: list[str] = []
    for item in items:
        for part in re.split(r"[,;|]", str(item)):
            part = _SPACES.sub(" ", part).strip()
            if part and part not in out:
                out.append(part)
    return out


def resolve(facts: PageFacts, traf: Mapping[str, Any], text: str, html: str) -> dict[str, Any]:
    """Final metadata fields of ``ExtractedArticle`` (except text), best source first.

    ``traf`` may compute a field on first access (trafilatura's date and author are costly), so the
    fallbacks are only read when the sources before them gave nothing."""
    url = facts.url
    published = _first(*(normalize_date(v) for v in (
        _ld(facts, "datePublished"), _meta(facts, _PUBLISHED_META), facts.time_published)))
    if published is None:
        published = date_from_url(url) or normalize_date(traf.get("date")) or _htmldate(html, url)
    modified = _first(*(normalize_date(v) for v in (_ld(facts, "dateModified"), _meta(facts, _MODIFIED_META))))
    authors = clean_authors(_ld_names(_ld(facts, "author")))
    if not authors:
        authors = clean_authors(_meta_authors(facts))
    if not authors and traf.get("author"):
        authors = clean_authors([traf["author"]])
    if not authors:
        authors = clean_authors(facts.bylines[:2])
    language = _first(*(language_code(v) for v in (
        facts.html_lang, facts.meta.get("content-language"), facts.meta.get("language"),
        facts.meta.get("og:locale"), _ld(facts, "inLanguage"), traf.get("language"))))
    publisher = _ld(facts, "publisher")
    sitename = _first(facts.meta.get("og:site_name"), _first(*_ld_names(publisher)) if publisher else None,
                      facts.meta.get("application-name"), traf.get("sitename"))
    tags = _split_tags(_first(traf.get("tags"), _ld(facts, "keywords"), facts.meta.get("article:tag"),
                              facts.meta.get("news_keywords"), facts.tag_links))
    return {
        "title": _first(traf.get("title"), facts.meta.get("og:title"), _ld(facts, "headline"), facts.title_tag),
        "authors": authors,
        "date_published": published,
        "date_modified": modified,
        "language": language or detect_language(text),
        "language_detected": language is None,
        "sitename": sitename,
        "description": _first(traf.get("description"), facts.meta.get("og:description")),
        "tags": tags,
        "canonical_url": _first(absolute_url(facts.canonical, url), absolute_url(facts.meta.get("og:url"), url),
                                absolute_url(traf.get("url"), url)),
        "image": _first(*(absolute_url(facts.meta.get(k), url) for k in _IMAGE_META),
                        absolute_url(_ld(facts, "image"), url), absolute_url(traf.get("image"), url)),
    }


def _htmldate(html: str, url: str) -> str | None:
    """htmldate on structured markup only (no extensive text search), earliest date kept."""
    try:
        from htmldate import find_date

        return normalize_date(find_date(html, url=url, extensive_search=False, original_date=True))
    except Exception:  # a date guess must never cost the article
        logger.debug("htmldate failed on %s", url, exc_info=True)
        return None


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language (py3langid), for pages that declare none."""
    if len(text.split()) < 5 and len(text) < 40:
        return None
    import py3langid

    code, _ = py3langid.classify(text[:5000])
    return str(code) if code else None
