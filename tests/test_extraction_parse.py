"""``parse_html`` builds the very tree trafilatura's ``load_html`` builds (it only changes how lxml
picks element classes), on every page kept under tests/ and on inputs load_html treats specially."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

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
