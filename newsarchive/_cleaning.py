"""Structural cleaning of a parsed page before trafilatura sees it.

Why: trafilatura decides block by block; on div-soup templates some widgets (tag clouds, caption
divs, comment switches) look like short paragraphs and leak into the text. The rules here rely only
on markup semantics that hold across sites, never on one site's class names:

* ``<figcaption>`` is by definition a caption, not running text;
* a block whose visible text is almost entirely link text and holds several links is a link list
  (tag lists, "more" lists, menus), not prose;
* an element whose class/id/role/aria-label *tokens* name a widget (comments, share bar,
  newsletter box, cookie banner ...) is not the article body. Tokens, not substrings: ``tags`` and
  ``comments`` match, ``commentary`` or ``article-body`` do not.

Each rule can be switched off (``CleaningOptions``) so its effect can be measured on the benchmark;
elements holding the main ``<article>``/``articleBody`` are never removed by the class-token rule.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

#: Tokens of class/id/role/aria-label that mark an element as a page widget.
WIDGET_TOKENS: frozenset[str] = frozenset(
    {
        "comment",
        "comments",
        "share",
        "sharing",
        "sharebar",
        "social",
        "newsletter",
        "subscribe",
        "subscription",
        "cookie",
        "cookies",
        "consent",
        "breadcrumb",
        "breadcrumbs",
        "related",
        "tags",
        "taglist",
        "mostread",
        "popular",
        "trending",
        "recommended",
        "outbrain",
        "taboola",
        "promo",
    }
)

_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_BLOCK_TAGS = frozenset({"div", "ul", "ol", "section", "aside", "nav", "p", "footer", "header", "span", "table"})


@dataclass(frozen=True)
class CleaningOptions:
    """Which structural rules to apply (all measurable separately)."""

    drop_figcaptions: bool = True
    drop_link_lists: bool = True
    drop_widgets: bool = True
    drop_control_groups: bool = True
    link_list_min_links: int = 3
    link_list_min_ratio: float = 0.8


def attribute_tokens(el: HtmlElement) -> set[str]:
    """Lower-cased word tokens of an element's class, id, role and aria-label."""
    raw = " ".join(el.get(a, "") for a in ("class", "id", "role", "aria-label")).lower()
    return {t for t in _TOKEN_SPLIT.split(raw) if t}


def drop_figcaptions(tree: HtmlElement) -> int:
    """Remove ``<figcaption>`` elements (captions are not running text)."""
    removed = 0
    for el in list(tree.iter("figcaption")):
        el.drop_tree()
        removed += 1
    return removed


#: The ASCII characters ``str.split()`` treats as white space (tab, line feed, VT, FF, CR, 0x1c-0x1f, space).
_ASCII_SPACE = bytes(code for code in range(128) if chr(code).isspace())


def _link_list_scope(tree: HtmlElement) -> list[HtmlElement]:
    """The tree's elements in document order, except a ``<head>`` without links.

    Why: nothing in such a head can be a link list, and its counts would only add to those of
    ``<html>``, which is no block and never removed; its style sheets and scripts (often hundreds of kB
    of text) need not be counted at all."""
    if tree.tag != "html":
        return list(tree.iter(etree.Element))
    elements = [tree]
    for child in tree:
        if child.tag == "head" and next(child.iter("a"), None) is None:
            continue
        elements.extend(child.iter(etree.Element))
    return elements


def drop_link_lists(tree: HtmlElement, min_links: int = 3, min_ratio: float = 0.8) -> int:
    """Remove blocks that are mostly link text with several links (menus, tag lists, "more" lists).

    One bottom-up pass: a block found to be a link list is not counted in its parent, so the
    smallest qualifying block goes, and a parent goes too only if it is a link list without it.
    """
    totals: dict[HtmlElement, tuple[int, int, int]] = {}  # only elements with text: most have none
    doomed: list[HtmlElement] = []
    child_totals = totals.get
    # The loop body runs for every element: the length sums are inlined (no call per text) and a
    # leaf skips the child loop; an element without text is skipped at once (it adds nothing).
    # Text lengths count the characters that are not white space (those ``str.split`` splits at). An
    # ASCII text (CSS and scripts of hundreds of kB among them) is counted by deleting its white-space
    # bytes, in C, not by splitting it into a list of words.
    for el in reversed(_link_list_scope(tree)):  # descendants before their ancestors
        text = el.text
        text_len = 0
        if text:
            text_len = (len(text.encode("ascii").translate(None, _ASCII_SPACE)) if text.isascii()
                        else sum(map(len, text.split())))
        link_len = links = 0
        if len(el):
            for child in el:
                tail = child.tail
                if tail:
                    text_len += (len(tail.encode("ascii").translate(None, _ASCII_SPACE)) if tail.isascii()
                                 else sum(map(len, tail.split())))
                counted = child_totals(child)
                if counted is not None:
                    text_len += counted[0]
                    link_len += counted[1]
                    links += counted[2]
        if not text_len:  # links count only links with text, so an element without text adds nothing
            continue
        tag = el.tag
        if tag == "a":
            link_len, links = text_len, links + 1
        if links >= min_links and tag in _BLOCK_TAGS and link_len / text_len >= min_ratio:
            doomed.append(el)
        else:
            totals[el] = (text_len, link_len, links)
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()
    return len(doomed)


_CONTROL_CHILD_TAGS = frozenset({"span", "button", "a", "label", "div", "b", "strong", "em", "i"})
_SENTENCE_PUNCT = re.compile(r"[.!?;:…]")


def _is_control_group(el: HtmlElement, max_words: int) -> bool:
    children = [c for c in el if isinstance(c.tag, str)]
    if len(children) < 2 or any(c.tag not in _CONTROL_CHILD_TAGS for c in children):
        return False
    # Text directly in the container (not in a child) means prose with inline markup.
    loose = (el.text or "") + "".join(c.tail or "" for c in children)
    if loose.strip():
        return False
    for child in children:
        if len(child):  # nested structure: not a flat row of labels
            return False
        words = (child.text or "").split()
        if not words or len(words) > max_words or _SENTENCE_PUNCT.search(child.text or ""):
            return False
    return True


def drop_control_groups(tree: HtmlElement, max_words: int = 3) -> int:
    """Remove flat rows of short labels with no text between them (tabs, button bars, switches)."""
    removed = 0
    for el in list(tree.iter("div", "p", "span", "section", "header", "footer", "nav", "aside")):
        # len(el) < 2 (most of them) cannot be a row of two labels: rejected without a call
        if len(el) > 1 and el.getparent() is not None and _is_control_group(el, max_words):
            el.drop_tree()
            removed += 1
    return removed


_WIDGET_HINT = re.compile("|".join(sorted(WIDGET_TOKENS, key=len, reverse=True)))
_WIDGET_ATTRS = ("class", "id", "role", "aria-label")
_WIDGET_ATTR_NAMES = frozenset(_WIDGET_ATTRS)


def _widget_scan(tree: HtmlElement) -> tuple[list[HtmlElement], list[HtmlElement]]:
    """In one Python walk over the document: the elements, in document order, with a class/id/role/aria-label
    containing a widget token (a cheap substring test before the exact token test), and the main
    containers (``<article>``, ``<main>``, ``itemprop=articleBody``).

    Why a walk: one ``keys()`` call per element (most have no attribute at all) costs less than
    XPath's attribute selection, which made a string object and an element object per attribute, and
    a second XPath for the containers."""
    root = tree.getroottree().getroot()
    candidates: list[HtmlElement] = []
    mains: list[HtmlElement] = list(root.iter("article", "main"))  # a C walk; itemprop ones added below
    search = _WIDGET_HINT.search
    for el in root.iter(etree.Element):
        names = el.keys()
        if not names:  # most elements: nothing more to read
            continue
        if "itemprop" in names and el.get("itemprop") == "articleBody":
            mains.append(el)
        for name in names:
            if name in _WIDGET_ATTR_NAMES and search(el.get(name).lower()):
                candidates.append(el)
                break
    return candidates, mains


def drop_widgets(tree: HtmlElement) -> int:
    """Remove elements whose attribute tokens name a widget, sparing the main article container."""
    candidates, mains = _widget_scan(tree)
    protected: set[HtmlElement] | None = None
    removed = 0
    for el in candidates:
        raw = " ".join(el.get(a, "") for a in _WIDGET_ATTRS).lower()
        if el.tag in ("html", "body"):
            continue
        if not ({t for t in _TOKEN_SPLIT.split(raw) if t} & WIDGET_TOKENS):
            continue
        if protected is None:
            protected = set(mains)
            for main in mains:
                protected.update(main.iterancestors())
        if el in protected or el.getparent() is None:
            continue
        el.drop_tree()
        removed += 1
    return removed


def clean_tree(tree: HtmlElement, options: CleaningOptions) -> dict[str, int]:
    """Apply the enabled rules in place; return how many elements each rule removed."""
    counts: dict[str, int] = {}
    # The widget and link-list rules walk every element in Python, and lxml makes a new Python object
    # for an element each time a walk reaches it unless one is alive: this list keeps one alive for
    # each, made once, until the rules are done.
    elements = list(tree.getroottree().getroot().iter())
    if options.drop_figcaptions:
        counts["figcaptions"] = drop_figcaptions(tree)
    if options.drop_widgets:
        counts["widgets"] = drop_widgets(tree)
    if options.drop_control_groups:
        counts["control_groups"] = drop_control_groups(tree)
    if options.drop_link_lists:
        counts["link_lists"] = drop_link_lists(tree, options.link_list_min_links, options.link_list_min_ratio)
    del elements
    logger.debug("Structural cleaning removed %s", counts)
    return counts
