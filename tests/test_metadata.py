"""Metadata: structured sources first, normalised values; the seed's two layouts agree."""

from __future__ import annotations

import json

import pytest

from newsarchive._metadata import clean_authors, date_from_url, language_code, normalize_date
from newsarchive.extraction import ExtractedArticle, extract_article
from tests.helpers import SEED, load_seed_expected

SEED_URL = "https://sputniknews.com/politics/201609061044940452-us-russia-syria-cooperation/"
BODY = "".join(f"<p>Paragraph {n} of the article tells the reader what happened in the town this week, "
               f"with enough words to count as an article on its own.</p>" for n in range(4))


def page(head: str = "", body_top: str = "", body_end: str = "", lang: str = "") -> str:
    attr = f' lang="{lang}"' if lang else ""
    return (f"<html{attr}><head><title>Harbour Bridge Reopens</title>{head}</head><body>"
            f"<header><div class='clock'>22 September 2019</div></header><article><h1>Harbour Bridge Reopens</h1>"
            f"{body_top}{BODY}{body_end}</article></body></html>")


def extract(html: str, url: str = "https://news.example.org/city/bridge-reopens") -> ExtractedArticle:
    article = extract_article(html, url)
    assert article is not None
    return article


@pytest.mark.parametrize("layout", ["sputnik-article.html", "sputnik-article-divsoup.html"])
def test_seed_layouts_give_the_same_metadata(layout: str) -> None:
    expected = load_seed_expected()
    article = extract((SEED / layout).read_text(encoding="utf-8"), SEED_URL)
    assert article.title == expected["title"]
    assert article.date_published and article.date_published[:10] == expected["date"] == "2016-09-06"
    assert article.tags == expected["tags"]
    assert article.canonical_url == expected["url"]
    assert article.language == "en"


def test_dates_prefer_structured_sources_and_keep_the_offset() -> None:
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "datePublished": "2016-09-06T16:02:00+03:00",
          "dateModified": "2016-09-07T08:00:00Z"}
    html = page(f'<script type="application/ld+json">{json.dumps(ld)}</script>'
                '<meta property="article:published_time" content="2016-09-05T10:00:00+00:00">')
    article = extract(html, "https://news.example.org/2015/01/02/bridge")
    assert article.date_published == "2016-09-06T16:02:00+03:00"
    assert article.date_modified == "2016-09-07T08:00:00+00:00"
    og = extract(page('<meta property="article:published_time" content="2016-09-05T10:00:00Z">'
                      '<meta property="article:modified_time" content="2016-09-05T12:30:00Z">'))
    assert (og.date_published, og.date_modified) == ("2016-09-05T10:00:00+00:00", "2016-09-05T12:30:00+00:00")
    timed = extract(page(body_top='<time datetime="2016-09-04T09:15:00+02:00">4 Sept</time>'))
    assert timed.date_published == "2016-09-04T09:15:00+02:00"


def test_date_from_the_url_beats_a_header_clock() -> None:
    article = extract(page(), "https://news.example.org/2016/09/06/bridge-reopens/")
    assert article.date_published == "2016-09-06"


@pytest.mark.parametrize(("url", "expected"), [
    ("https://x.org/2016/09/06/a", "2016-09-06"), ("https://x.org/news/2016-09-06-a.html", "2016-09-06"),
    ("https://x.org/politics/201609061044940452-a/", "2016-09-06"), ("https://x.org/a/20160906/", "2016-09-06"),
    ("https://x.org/story/2012011234", None), ("https://x.org/2016/13/06/a", None), ("https://x.org/a", None)])
def test_date_from_url(url: str, expected: str | None) -> None:
    assert date_from_url(url) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("2016-09-06", "2016-09-06"), ("2016-09-06T16:02:00+03:00", "2016-09-06T16:02:00+03:00"),
    ("2016-09-06T16:02:00Z", "2016-09-06T16:02:00+00:00"), ("2016-09-06 16:02", "2016-09-06T16:02:00"),
    ("20160906", "2016-09-06"), ("not a date", None), ("1850-01-01", None), ("", None)])
def test_normalize_date(value: str, expected: str | None) -> None:
    assert normalize_date(value) == expected


@pytest.mark.parametrize(("byline", "names"), [
    ("By Tomas Berg · 12 March 2024", ["Tomas Berg"]),
    ("By JANE DOE and John Smith, Staff Writers", ["Jane Doe", "John Smith"]),
    ("Maria Lopez, Reporter", ["Maria Lopez"]),
    ("By Ann Lee | ann.lee@example.org | Updated 3:45 p.m.", ["Ann Lee"]),
    ("Peter Parker, Senior Political Correspondent", ["Peter Parker"]),
    ("Kim Jones (Reuters), Sept. 6, 2016", ["Kim Jones"]),
    ("Von Hans Müller und Eva Schmidt", ["Hans Müller", "Eva Schmidt"]),
    ("By Staff Reporter", []),
])
def test_clean_authors(byline: str, names: list[str]) -> None:
    assert clean_authors([byline]) == names


def test_authors_from_json_ld_meta_and_byline_text() -> None:
    ld = {"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Jane Doe"}, {"name": "John Smith"}]}
    assert extract(page(f'<script type="application/ld+json">{json.dumps(ld)}</script>')).authors == [
        "Jane Doe", "John Smith"]
    assert extract(page('<meta name="author" content="By Ann Lee, Staff Writer">')).authors == ["Ann Lee"]
    assert extract(page(body_top="<div class='x-by'>By Tomas Berg · 12 March 2024</div>")).authors == ["Tomas Berg"]


def test_language_declared_or_detected() -> None:
    assert extract(page(lang="en-GB")).language == "en"
    assert extract(page('<meta property="og:locale" content="de_DE">')).language == "de"
    german = "".join(f"<p>Absatz {n}: Die Stadt hat am Montag die neue Brücke über den Hafen eröffnet, nachdem "
                     f"die Bauarbeiten zwei Jahre gedauert hatten und viele Bürger gewartet haben.</p>"
                     for n in range(3))
    html = f"<html><head><title>Brücke</title></head><body><article>{german}</article></body></html>"
    assert extract(html).language == "de"
    assert language_code("pt-BR") == "pt" and language_code("x") is None


def test_urls_are_absolute_and_tags_split() -> None:
    html = page('<link rel="canonical" href="/city/bridge-reopens?ref=x#top">'
                '<meta property="og:image" content="//cdn.example.org/i/bridge.jpg">'
                '<meta property="og:site_name" content="Example News">'
                '<meta name="keywords" content="bridges; harbour,  city hall">')
    article = extract(html, "https://news.example.org/city/bridge-reopens")
    assert article.canonical_url == "https://news.example.org/city/bridge-reopens?ref=x"
    assert article.image == "https://cdn.example.org/i/bridge.jpg"
    assert article.sitename == "Example News"
    assert article.tags == ["bridges", "harbour", "city hall"]
    og_url = extract(page('<meta property="og:url" content="https://news.example.org/b">'))
    assert og_url.canonical_url == "https://news.example.org/b"


def test_tags_from_tag_links_when_no_meta() -> None:
    links = '<div class="t"><a href="/tag/bridges/">Bridges</a> <a href="/tag/harbour/">#Harbour</a></div>'
    assert extract(page(body_end=links)).tags == ["Bridges", "Harbour"]


TAG_LINK_PAGES = {
    "tags-div": '<div class="tags"><a href="/tag/harbour/">Harbour</a><a href="/tags/bridge">Bridge</a></div>',
    "entry-tags": '<p class="entry-tags"><a href="https://x.org/tagy/a/">A</a> <a href="/tagies/b/">B</a></p>',
    "meta-div": '<div class="postmeta"><a href="/topics/c/">C</a><a href="/Tag/d/">D</a><a href="/tag/e/">E</a></div>',
    "outside-containers": '<span><a href="/tag/f/">F</a></span>',
    "tag-without-slash": '<div class="tags"><a href="/tagged">G</a><a href="/tag">H</a></div>',
    "no-tag-links": '<div class="tags"><a href="/topic/i/">I</a></div>',
}


@pytest.mark.parametrize("name", sorted(TAG_LINK_PAGES))
def test_trafilatura_tags_skip_only_pages_without_tag_links(name: str) -> None:
    """TrafilaturaMetadata reads tags as trafilatura does, except that it does not search a page
    without a "/tag" link: the same answer wherever the search could or could not find one."""
    from trafilatura.metadata import examine_meta, extract_catstags

    from newsarchive.extraction import TrafilaturaMetadata, parse_html

    html = page(body_end=TAG_LINK_PAGES[name])
    found = {}
    for source in (html, html.replace("<head>", '<head><meta property="article:tag" content="Meta tag">')):
        tree = parse_html(source)
        assert tree is not None
        found[source] = examine_meta(tree).tags or extract_catstags("tag", tree)
        assert TrafilaturaMetadata(tree, "https://news.example.org/a")["tags"] == found[source]
    # the search itself has something to find on these pages
    assert bool(found[html]) == (name in ("tags-div", "entry-tags", "meta-div"))


def test_extraction_leaves_no_reference_cycles() -> None:
    """A page's trees go when its extraction is done, freed by reference counting: nothing in a
    reference cycle keeps a parsed document (megabytes of libxml2 memory) waiting for the collector."""
    import gc

    from newsarchive.extract_pool import extract_page

    html = (SEED / "sputnik-article-divsoup.html").read_bytes()
    extract_page(html, "utf-8", SEED_URL)  # imports, caches
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            assert extract_page(html, "utf-8", SEED_URL).article is not None
        assert gc.collect() == 0
    finally:
        gc.enable()
