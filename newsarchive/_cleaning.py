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
_WS = re.compile(r"\s+")
_BLOCK_TAGS = ("div", "ul", "ol", "section", "aside", "nav", "p", "footer", "header", "span", "table")
_PROTECTED_XPATH = "//article|//*[@itemprop='articleBody']|//main"


@dataclass(frozen=True)
class CleaningOptions:
    """Which structural rules to apply (all measurable separately)."""

    drop_figcaptions: bool = True
    drop_link_lists: bool = True
    drop_widgets: bool = False
    link_list_min_links: int = 3
    link_list_min_ratio: float = 0.8


def _text_len(el: HtmlElement) -> int:
    return len(_WS.sub("", el.text_content() or ""))


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


def _is_link_list(el: HtmlElement, min_links: int, min_ratio: float) -> bool:
    links = [a for a in el.iter("a") if _text_len(a) > 0]
    if len(links) < min_links:
        return False
    total = _text_len(el)
    if total == 0:
        return False
    link_chars = sum(_text_len(a) for a in links)
    return link_chars / total >= min_ratio


def drop_link_lists(tree: HtmlElement, min_links: int = 3, min_ratio: float = 0.8) -> int:
    """Remove innermost blocks that are mostly link text with several links."""
    removed = 0
    # Deepest first so a link-list div is removed, not the article holding it.
    candidates = [el for el in tree.iter(*_BLOCK_TAGS)]
    for el in reversed(candidates):
        if el.getparent() is None:
            continue
        if _is_link_list(el, min_links, min_ratio):
            el.drop_tree()
            removed += 1
    return removed


def drop_widgets(tree: HtmlElement) -> int:
    """Remove elements whose attribute tokens name a widget, sparing the main article container."""
    protected: set[HtmlElement] = set()
    for main in tree.xpath(_PROTECTED_XPATH):
        protected.add(main)
        protected.update(main.iterancestors())
    removed = 0
    for el in list(tree.iter()):
        if not isinstance(el.tag, str) or el in protected or el.tag in ("html", "body"):
            continue
        if el.getparent() is None:
            continue
        if attribute_tokens(el) & WIDGET_TOKENS:
            el.drop_tree()
            removed += 1
    return removed


def clean_tree(tree: HtmlElement, options: CleaningOptions) -> dict[str, int]:
    """Apply the enabled rules in place; return how many elements each rule removed."""
    counts: dict[str, int] = {}
    if options.drop_figcaptions:
        counts["figcaptions"] = drop_figcaptions(tree)
    if options.drop_widgets:
        counts["widgets"] = drop_widgets(tree)
    if options.drop_link_lists:
        counts["link_lists"] = drop_link_lists(tree, options.link_list_min_links, options.link_list_min_ratio)
    logger.debug("Structural cleaning removed %s", counts)
    return counts
