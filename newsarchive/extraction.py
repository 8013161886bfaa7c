"""Clean article text and metadata from one HTML page: the only module that imports trafilatura.

Runs in extraction worker processes, so everything here is a pure function of its arguments and
returns picklable values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from importlib.metadata import version
from typing import Any

from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HTMLParser, HtmlProcessingInstruction, fromstring
from scrapy.settings import BaseSettings

from newsarchive._cleaning import CleaningOptions, clean_tree
from newsarchive._htmlrepair import repair_html
from newsarchive._metadata import collect, resolve
from newsarchive._textblocks import (
    drop_headline,
    headline_candidates,
    json_ld_objects,
    schema_article_body,
    split_paragraphs,
)
from newsarchive.boilerplate import normalize_block

logger = logging.getLogger(__name__)

EXTRACTOR_NAME = "trafilatura"


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
    fast: bool = True
    min_words: int = 20
    drop_selectors: tuple[str, ...] = field(default=())
    clean_structure: bool = True

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ExtractionOptions:
        bias = str(settings.get("NEWSARCHIVE_EXTRACT_BIAS", "balanced")).lower()
        if bias not in ("balanced", "precision", "recall"):
            raise ValueError(f"NEWSARCHIVE_EXTRACT_BIAS must be balanced, precision or recall, got {bias!r}")

        def flag(name: str, default: bool) -> bool:
            try:
                return settings.getbool(name, default)
            except ValueError:
                raise ValueError(f"{name} must be true or false, got {settings.get(name)!r}") from None

        try:
            min_words = settings.getint("NEWSARCHIVE_MIN_WORDS", 20)
        except ValueError:
            raise ValueError(f"NEWSARCHIVE_MIN_WORDS must be a whole number, got "
                             f"{settings.get('NEWSARCHIVE_MIN_WORDS')!r}") from None
        return cls(
            favor_precision=bias == "precision",
            favor_recall=bias == "recall",
            include_comments=flag("NEWSARCHIVE_EXTRACT_COMMENTS", False),
            include_tables=flag("NEWSARCHIVE_EXTRACT_TABLES", True),
            include_links=flag("NEWSARCHIVE_EXTRACT_LINKS", False),
            fast=flag("NEWSARCHIVE_EXTRACT_FAST", True),
            min_words=min_words,
            drop_selectors=tuple(settings.getlist("NEWSARCHIVE_EXTRACT_DROP_SELECTORS")),
            clean_structure=flag("NEWSARCHIVE_EXTRACT_CLEAN", True),
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
    #: True when ``language`` was detected from the text because the page declares none.
    language_detected: bool = False
    #: The body's blocks, in order (``text`` is them joined by newlines); what site-level
    #: boilerplate learning observes and filters.
    paragraphs: tuple[str, ...] = ()
    #: Words in ``text`` (``count_words``); counted here when not given. The extraction worker gives
    #: the count it made for the minimum-length test, so the crawl process does not count again.
    word_count: int = -1

    def __post_init__(self) -> None:
        if self.word_count < 0:
            object.__setattr__(self, "word_count", count_words(self.text))

    def with_paragraphs(self, paragraphs: Sequence[str]) -> ExtractedArticle:
        """The same article with its body reduced to ``paragraphs`` (e.g. after site filtering)."""
        return replace(self, paragraphs=tuple(paragraphs), text="\n".join(paragraphs), word_count=-1)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Han, kana: scripts written without spaces between words.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def count_words(text: str) -> int:
    """Words in ``text``; Chinese/Japanese, written without spaces, count one word per two
    characters (their average word length), so the minimum-length gate works for them too."""
    unspaced = len(_UNSPACED.findall(text))
    spaced = len(_UNSPACED.sub(" ", text).split())
    return spaced + (unspaced + 1) // 2


@cache
def _html_parser() -> HTMLParser:
    """trafilatura's HTML parser (same options), with lxml's element class lookup done in C.

    Why: lxml.html's own lookup runs in Python each time lxml makes an object for an element (to give
    form, input, select, textarea and label elements classes of their own, whose extra methods neither
    trafilatura nor we use); every tree walk of the metadata search, the cleaning and trafilatura's
    passes pays for it. Here every element is a plain ``HtmlElement``, with the same methods.
    """
    from trafilatura.utils import HTML_PARSER

    parser = HTML_PARSER.copy()
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))
    return parser


def parse_html(html: str) -> HtmlElement | None:
    """The page as an lxml tree: the very tree trafilatura's ``load_html`` makes (its repairs of faulty
    markup included; None when it is not HTML at all), parsed with ``_html_parser``.

    Only the common case is parsed here: a string that looks like an HTML document and parses to a
    tree with content, which ``load_html`` returns from its first parse. Anything else (bytes, a
    fragment, an encoding declaration, a parse error, an empty tree) goes to ``load_html`` itself.
    Its repairs are ``repair_html``'s, trafilatura's own made cheap.
    """
    from trafilatura.utils import is_dubious_html, load_html

    if isinstance(html, str):
        beginning = html[:50].lower()
        if not is_dubious_html(beginning):
            try:
                tree = fromstring(repair_html(html, beginning), parser=_html_parser())
            except Exception:  # load_html tries again, its way, and logs
                tree = None
            if tree is not None and len(tree) >= 1:
                return tree
    return load_html(html)


def extract_article(html: str, url: str, options: ExtractionOptions | None = None,
                    tree: HtmlElement | None = None) -> ExtractedArticle | None:
    """The article on a page, or None when the page holds no article text.

    The page is parsed once (or given as ``tree``, from ``parse_html(html)``, which this changes);
    per-site drop selectors and the structural cleaning of ``_cleaning`` act on that tree,
    trafilatura extracts from it, and the headline (with what sits above it) is cut from the body,
    which is metadata's business (see ``_textblocks``).
    """
    from trafilatura import bare_extraction

    options = options or ExtractionOptions()
    if tree is None:
        tree = parse_html(html)
    if tree is None:
        return None
    schema_objects = json_ld_objects(tree)
    facts = collect(tree, url, schema_objects)  # before cleaning removes headers and tag lists
    headline_h1 = headline_candidates(tree, None)
    if options.drop_selectors:
        _drop_selected(tree, options.drop_selectors)
    if options.clean_structure:
        clean_tree(tree, CleaningOptions())
    traf_meta = TrafilaturaMetadata(tree, url)
    document = bare_extraction(
        tree,
        url=url,
        with_metadata=False,
        include_comments=options.include_comments,
        include_tables=options.include_tables,
        include_links=options.include_links,
        favor_precision=options.favor_precision,
        favor_recall=options.favor_recall,
        fast=options.fast,
        deduplicate=False,
    )
    meta: Mapping[str, Any] = {}
    paragraphs: list[str] = []
    if document is not None:
        meta = traf_meta
        paragraphs = split_paragraphs(getattr(document, "text", None) or "")
        title = meta.get("title")
        headlines = headline_h1 | ({normalize_block(title)} if title else set())
        paragraphs = drop_headline(paragraphs, headlines - {""})
    if not paragraphs:
        body = schema_article_body(tree, schema_objects)
        if body:
            logger.debug("Using schema.org articleBody as fallback for %s", url)
            paragraphs = split_paragraphs(body)
    text = "\n".join(paragraphs)
    words = count_words(text)
    if words < options.min_words:  # menus, empty shells, error pages: no article here
        return None
    return ExtractedArticle(
        **resolve(facts, meta, text, html),
        text=text,
        paragraphs=tuple(paragraphs),
        word_count=words,
    )


class TrafilaturaMetadata(Mapping[str, Any]):
    """trafilatura's metadata fields (as ``extract_metadata`` computes them), each on first use.

    Why: ``bare_extraction(with_metadata=True)`` runs all of trafilatura's metadata pass, including a
    deep copy of the tree for the author search and htmldate's extensive date search, on every page,
    while ``_metadata.resolve`` prefers the page's structured statements and falls back on
    trafilatura's author and date only when those are missing. Same steps, same tree (the cleaned
    one; trafilatura extracts the text from its own copy), only run when asked.
    """

    _FIELDS = ("title", "author", "url", "date", "sitename", "tags", "description", "image", "language")
    _COMPUTED = frozenset({"title", "author", "url", "date", "sitename", "tags"})  # each by its method _KEY

    def __init__(self, tree: HtmlElement, url: str) -> None:
        from trafilatura.metadata import examine_meta, extract_meta_json

        self._tree = tree
        self._default_url = url
        base = examine_meta(tree)
        if base.author and " " not in base.author:
            base.author = None
        try:
            base = extract_meta_json(tree, base)
        except Exception as err:  # bugs in trafilatura's json_metadata.py, as extract_metadata does
            logger.debug("trafilatura JSON metadata failed on %s: %s", url, err)
        self._base = base
        self._values: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._FIELDS:
            raise KeyError(key)
        if key not in self._values:
            # The computed fields' methods are looked up here, never stored on the instance: bound
            # methods kept in an attribute would make a reference cycle, and the page's whole tree
            # (megabytes of libxml2 memory) would wait for the garbage collector instead of going
            # when the page is done.
            value = getattr(self, "_" + key)() if key in self._COMPUTED else getattr(self._base, key, None)
            self._values[key] = _trimmed(value)
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._FIELDS)

    def __len__(self) -> int:
        return len(self._FIELDS)

    def _title(self) -> str | None:
        from trafilatura.metadata import extract_title

        return self._base.title or extract_title(self._tree)

    def _author(self) -> str | None:
        from trafilatura.metadata import extract_author

        return self._base.author or extract_author(self._tree)

    def _url(self) -> str | None:
        from trafilatura.metadata import extract_url

        return self._base.url or extract_url(self._tree, self._default_url)

    def _date(self) -> str | None:
        from trafilatura.metadata import find_date
        from trafilatura.settings import DEFAULT_CONFIG, set_date_params

        params = set_date_params(DEFAULT_CONFIG.getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH"))
        params["url"] = self._url()  # untrimmed, as extract_metadata passes it
        return find_date(self._tree, **params)  # type: ignore[no-any-return]

    def _sitename(self) -> str | None:
        from trafilatura.metadata import META_URL, extract_sitename

        sitename = self._base.sitename or extract_sitename(self._tree)
        if sitename:
            sitename = sitename.lstrip("@")
            if sitename and "." not in sitename and not sitename[0].isupper():
                sitename = sitename.title()
            return sitename
        url = self._url()
        match = META_URL.match(url) if url else None
        return match[1] if match else None

    def _tags(self) -> list[str]:
        from trafilatura.metadata import extract_catstags

        if self._base.tags:
            return self._base.tags
        # extract_catstags keeps only links whose href has a "/tag/" (tags/tagy/tagies) segment in it,
        # found by XPaths (one calls back into Python's re for every div): on a page without an href
        # holding "/tag" (nearly all), its answer is known to be an empty list.
        if not _TAG_HREFS(self._tree):
            return []
        return extract_catstags("tag", self._tree)


#: Links whose href could hold a tag page's path segment (a superset of what ``extract_catstags`` keeps).
_TAG_HREFS = etree.XPath('boolean(//a[contains(@href, "/tag")])')


def _trimmed(value: Any) -> Any:
    """What trafilatura's ``Document.clean_and_trim`` does to a string field."""
    if not isinstance(value, str):
        return value
    from html import unescape

    from trafilatura.utils import line_processing

    if len(value) > 10000:
        value = value[:9999] + "…"
    return line_processing(unescape(value))


def _drop_selected(tree: HtmlElement, selectors: tuple[str, ...]) -> None:
    """Removes elements matching CSS selectors (per-site rules) before extraction, in place."""
    for selector in selectors:
        for element in tree.cssselect(selector):
            element.drop_tree()
