"""Article text quality: the seed's two layouts, and two template sites learned page by page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from newsarchive.boilerplate import BlockStats, site_of
from newsarchive.extraction import ExtractedArticle, extract_article
from tests.helpers import PAGES, SEED

TEMPLATES = PAGES / "templates"
SEED_URL = "https://sputniknews.com/politics/201609061044940452-us-russia-syria-cooperation/"
EXPECTED = json.loads((SEED / "sputnik-article.expected.json").read_text(encoding="utf-8"))


def fold(text: str) -> str:
    """Compare after folding white space, NBSP counting as a space."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def assert_clean(text: str, paragraphs: list[str], absent: list[str]) -> None:
    folded = fold(text)
    position = 0
    for para in paragraphs:
        found = folded.find(fold(para), position)
        assert found >= 0, f"missing or out of order: {para[:60]!r}"
        position = found + len(fold(para))
    for widget in absent:
        assert fold(widget) not in folded, f"boilerplate kept: {widget!r}"


@pytest.mark.parametrize("layout", ["sputnik-article.html", "sputnik-article-divsoup.html"])
def test_seed_layouts_alone(layout: str) -> None:
    """Each seed layout on its own page, without any site-level learning."""
    article = extract_article((SEED / layout).read_text(encoding="utf-8"), SEED_URL)
    assert article is not None
    assert_clean(article.text, EXPECTED["body_paragraphs"], EXPECTED["boilerplate_absent"])
    assert article.title == EXPECTED["title"]


def test_seed_semantic_layout_metadata() -> None:
    article = extract_article((SEED / "sputnik-article.html").read_text(encoding="utf-8"), SEED_URL)
    assert article is not None
    assert article.tags == EXPECTED["tags"]
    assert article.date_published and article.date_published.startswith(EXPECTED["date"])
    assert article.canonical_url == EXPECTED["url"]


def crawl_site(folder: Path, base_url: str) -> tuple[dict[str, ExtractedArticle], BlockStats]:
    """What a crawl and a re-extraction do: extract every page, learn, then filter each page."""
    stats = BlockStats()
    raw: dict[str, ExtractedArticle] = {}
    for page in sorted(folder.glob("article-*.html")):
        url = base_url + page.name
        article = extract_article(page.read_text(encoding="utf-8"), url)
        assert article is not None, page.name
        stats.observe(site_of(url), url, article.paragraphs)
        raw[page.name] = article
    filtered = {
        name: a.with_paragraphs(stats.filter(site_of(base_url), a.paragraphs)) for name, a in raw.items()
    }
    return filtered, stats


@pytest.mark.parametrize("template", ["divsoup", "magazine"])
def test_template_site_learning(template: str) -> None:
    folder = TEMPLATES / template
    site = json.loads((folder / "site.json").read_text(encoding="utf-8"))
    base = f"https://{template}.example.com/news/"
    articles, stats = crawl_site(folder, base)
    assert len(articles) == len(site["pages"]) >= 6
    for name, expected in site["pages"].items():
        assert_clean(articles[name].text, expected["paragraphs"], site["boilerplate_absent"])
    for name in site["quoted_in"]:  # quoted by exactly two articles: below min_docs, so it stays
        assert fold(site["quoted"]) in fold(articles[name].text)
        assert stats.doc_frequency(site_of(base), site["quoted"]) == 2


def test_magazine_widgets_need_site_learning() -> None:
    """The second template's widgets survive page-level extraction; only repetition removes them."""
    folder = TEMPLATES / "magazine"
    site = json.loads((folder / "site.json").read_text(encoding="utf-8"))
    page = folder / "article-1.html"
    alone = extract_article(page.read_text(encoding="utf-8"), "https://magazine.example.com/news/article-1.html")
    assert alone is not None
    leaked = [w for w in site["boilerplate_absent"] if fold(w) in fold(alone.text)]
    assert leaked, "expected page-level extraction to keep some widgets of this template"
