"""``parse_html`` builds the very tree trafilatura's ``load_html`` builds (it only changes how lxml
picks element classes, and repairs faulty markup with ``repair_html``, trafilatura's repair made cheap),
on every page kept under tests/ and on inputs load_html treats specially."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import INVALID_XML_CHARS, load_html, repair_faulty_html

from newsarchive._htmlrepair import INVALID_XML_CHARACTERS, repair_html
from newsarchive.extraction import parse_html
from tests.helpers import PAGES

ODD_INPUTS = {
    "fragment": "<p>just a paragraph, no document around it</p>",
    "xml-declaration": '<?xml version="1.0" encoding="utf-8"?><html><body><p>Text</p></body></html>',
    "self-closing-html": "<!DOCTYPE html>\n<html lang='en'/>\n<body><p>Text</p></body>",
    "empty-document": "<html></html>",
    "control-characters": "<html><body><p>a\x00b\x0bc</p><form><input value='x'><label>L</label></form></body></html>",
}


def _serialized(tree: HtmlElement | None) -> bytes | None:
    return None if tree is None else etree.tostring(tree, encoding="utf-8")


@pytest.mark.parametrize("page", sorted(PAGES.rglob("*.html")), ids=lambda p: p.name)
def test_same_tree_as_trafilatura_on_test_pages(page: Path) -> None:
    html = page.read_text(encoding="utf-8", errors="replace")
    tree = parse_html(html)
    assert _serialized(tree) == _serialized(load_html(html))
    if tree is not None:
        assert all(isinstance(el, HtmlElement) for el in tree.iter(etree.Element))


@pytest.mark.parametrize("name", sorted(ODD_INPUTS))
def test_same_tree_as_trafilatura_on_odd_inputs(name: str) -> None:
    html = ODD_INPUTS[name]
    assert _serialized(parse_html(html)) == _serialized(load_html(html))


def _crafted_documents() -> list[str]:
    """Documents around each branch of the repair: doctype lines (self-closing or not, with or without a
    line end after them), a self-closing ``<html/>`` on lines 1-5 or past the first 4096 characters,
    every kind of line boundary ``str.splitlines`` knows, characters libxml2 refuses, short documents."""
    doctypes = ["", "<!DOCTYPE html>", "<!DOCTYPE html/>", "< ! doctype html PUBLIC '-//W3C//DTD' / >", "<!doctype/>x"]
    html_tags = ["<html>", "<html lang='en'/>", "<HTML />", "<html\t/>", "<html lang=x>/>", "<htmlx/> "]
    breaks = ["\n", "\r\n", "\r", "\f", "\v", "\x1c", "\x85", "\u2028", "\n\n"]
    odd_chars = ["", "\x00", "\x08\x0b", "\x0c", "\x1f", "\ufffe", "\uffff", "\t\r"]
    documents = []
    for doctype, html_tag, newline, odd in itertools.product(doctypes, html_tags, breaks, odd_chars):
        for line in range(5):
            lines = [doctype] + ["<!-- filler -->"] * line + [html_tag, f"<body><p>a{odd}b</p></body>"]
            documents.append(newline.join(lines))
        documents.append(doctype + html_tag + odd)  # one line, no line end at all
        documents.append(doctype + newline + " " * 4100 + html_tag + odd)  # the tag past the first 4096 characters
    return documents


def test_repair_html_is_trafilaturas_repair() -> None:
    documents = _crafted_documents() + [page.read_text(encoding="utf-8", errors="replace")
                                        for page in sorted(PAGES.rglob("*.html"))]
    for html in documents:
        beginning = html[:50].lower()
        assert repair_html(html, beginning) == repair_faulty_html(html, beginning), repr(html[:200])
    assert INVALID_XML_CHARACTERS == tuple(char for char in map(chr, range(0x10000)) if INVALID_XML_CHARS.match(char))
