"""Text-level clean-up of an extracted body: paragraphs, the headline, and a JSON-LD fallback.

Why: the body an extractor returns often starts with the headline (and, on div-soup pages, with
whatever sits above it: a photo caption, a kicker, breadcrumbs). The headline is metadata, kept in
``title``; researchers and the benchmark's ground truth both expect the body to start after it.
We drop the first line that equals a known headline (``<h1>``, ``og:title``/``<title>`` as
trafilatura reports it) together with the few lines before it, but only within the first lines,
so a body that merely mentions its title later is untouched.

schema.org ``articleBody`` (JSON-LD or microdata) is a publisher's own statement of the body. On the
benchmark it was never better than the extracted text where both exist (it is often truncated to
~500 characters or includes widgets), so it is only a fallback when extraction finds nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from lxml.html import HtmlElement

from newsarchive.boilerplate import normalize_block

logger = logging.getLogger(__name__)

#: How far into the body a headline line may sit to be cut (with what precedes it).
HEADLINE_WINDOW = 5
_SPACES = re.compile(r"[ \t\u00a0\u2009\u202f]+")


def split_paragraphs(text: str) -> list[str]:
    """Non-empty lines with runs of spaces (NBSP included) folded."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return [line for line in lines if line]


def headline_candidates(tree: HtmlElement, title: str | None) -> set[str]:
    """Normalised texts a headline line may have on this page."""
    candidates = {normalize_block(h1.text_content()) for h1 in tree.iter("h1")}
    if title:
        candidates.add(normalize_block(title))
    candidates.discard("")
    return candidates


def drop_headline(paragraphs: Sequence[str], headlines: set[str], window: int = HEADLINE_WINDOW) -> list[str]:
    """Remove the headline line and the lines above it, if it is among the first ``window``."""
    for index, line in enumerate(paragraphs[:window]):
        if normalize_block(line) in headlines:
            return list(paragraphs[index + 1 :])
    return list(paragraphs)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def json_ld_objects(tree: HtmlElement) -> list[dict[str, Any]]:
    """Every JSON object (nested ones included) of the page's JSON-LD scripts; bad JSON skipped."""
    objects: list[dict[str, Any]] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            logger.debug("Skipping malformed JSON-LD block")
            continue
        objects.extend(_walk(data))
    return objects


def schema_article_body(tree: HtmlElement, objects: Iterable[dict[str, Any]] | None = None) -> str | None:
    """The longest schema.org ``articleBody`` declared in JSON-LD, if any."""
    bodies = [
        obj["articleBody"]
        for obj in (json_ld_objects(tree) if objects is None else objects)
        if isinstance(obj.get("articleBody"), str) and obj["articleBody"].strip()
    ]
    return max(bodies, key=len) if bodies else None
