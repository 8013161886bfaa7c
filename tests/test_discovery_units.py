"""The small pure parts of discovery: feed and sitemap reading, safe XML, link and page judgement,
Retry-After, site configs. The crawls in test_discovery.py show them working together."""

from __future__ import annotations

import gzip
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from lxml import etree
from scrapy.http import HtmlResponse
from scrapy.settings import Settings

from newsarchive import __version__
from newsarchive.config import SettingError
from newsarchive.discovery_config import DiscoveryConfig
from newsarchive.extract_pool import extract_page
from newsarchive.extraction import parse_html
from newsarchive.feeds import NotAFeed, parse_date, parse_feed
from newsarchive.links import LinkKind, classify, clean_link, is_media_type
from newsarchive.pagetype import _NEXT_TEXT as NEXT_TEXT
from newsarchive.pagetype import continues, html_lang, next_page, next_page_links, page_kind
from newsarchive.politeness import user_agent
from newsarchive.retry_after import retry_after_seconds
from newsarchive.safexml import UnsafeXML, declared_entities, xml_parser
from newsarchive.sitemaps import NotASitemap, iter_entries, open_sitemap
from newsarchive.sites import PACKAGE_SITES, SiteConfigError, find_site, load_site
from tests.helpers import PAGES
from tests.make_site import BOMB_DTD

SITE = Path(__file__).parent / "pages" / "site"


def test_rss_091_with_a_public_doctype_is_read_without_loading_it() -> None:
    body = b"""<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
 "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old</title><language>en-us</language>
<item><title>One</title><link>http://example.com/a-first-story.html</link></item></channel></rss>"""
    feed = parse_feed(body, "http://example.com/rss")
    assert feed.kind == "rss" and [e.url for e in feed.entries] == ["http://example.com/a-first-story.html"]
    assert feed.entries[0].language == "en-us"


def test_rss2_guid_permalink_authors_and_dates() -> None:
    body = b"""<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>
<item><guid>http://example.com/guid-story</guid><pubDate>Fri, 20 Nov 2026 09:30:00 GMT</pubDate>
<dc:creator>Maria Jensen</dc:creator></item>
<item><guid isPermaLink="false">urn:x</guid><title>no link</title></item></channel></rss>"""
    feed = parse_feed(body, "http://example.com/rss")
    assert [(e.url, e.authors, e.date_published) for e in feed.entries] == [
        ("http://example.com/guid-story", ["Maria Jensen"], "2026-11-20T09:30:00+00:00")]


def test_rdf_and_atom_fixtures() -> None:
    rdf = parse_feed((SITE / "rdf.xml").read_bytes().replace(b"{{BASE}}", b"http://h"), "http://h/rdf.xml")
    assert rdf.kind == "rdf" and rdf.entries[0].authors == ["Lena Park"]
    assert rdf.entries[0].url == "http://h/culture/2026/11/museum-opens-new-wing.html"
    atom = parse_feed((SITE / "atom.xml").read_bytes().replace(b"{{BASE}}", b"http://h"), "http://h/atom.xml")
    assert atom.kind == "atom" and [e.language for e in atom.entries] == ["en", "en", "de"]
    relative = b"""<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://h/news/"><entry><title>x</title>
<link href="a-relative-story.html"/><updated>2026-11-20T09:30:00Z</updated></entry></feed>"""
    assert parse_feed(relative, "http://h/atom").entries[0].url == "http://h/news/a-relative-story.html"


def test_not_a_feed() -> None:
    with pytest.raises(NotAFeed, match="root element is <html>"):
        parse_feed(b"<html><body><p>hello</p></body></html>", "http://h/")
    with pytest.raises(NotAFeed):
        parse_feed(b"", "http://h/")
    stray = b'\n\n<?xml version="1.0"?><rss><channel><item><link>http://h/a-b-c</link></item></channel></rss>'
    assert [(e.url, parse_feed(stray, "http://h/").errors) for e in parse_feed(stray, "http://h/").entries] == [
        ("http://h/a-b-c", [])]  # blank lines before <?xml are not worth a warning
    assert parse_date("Fri, 20 Nov 2026 09:30:00 +0100") == "2026-11-20T09:30:00+01:00"
    assert parse_date("2026-11-20") == "2026-11-20T00:00:00" and parse_date("soon") is None


def test_parser_itself_neither_expands_entities_nor_reads_files(tmp_path: Path) -> None:
    """Below the DOCTYPE refusal, the parser is safe on its own (defence in depth)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    xxe = (f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
           "<rss><channel><title>&xxe;</title></channel></rss>").encode()
    root = etree.fromstring(xxe, xml_parser())
    assert b"TOP-SECRET" not in etree.tostring(root)
    assert declared_entities(root.getroottree()) == ["xxe"]
    bomb = f'{BOMB_DTD.replace("ROOTNAME", "rss")}<rss><title>&lol9;</title></rss>'.encode()
    started = time.monotonic()
    try:
        tree = etree.fromstring(bomb, xml_parser())
        assert len(etree.tostring(tree)) < 10_000
    except etree.XMLSyntaxError:
        pass  # libxml2's own amplification guard: also safe
    assert time.monotonic() - started < 2
    for document in (xxe, bomb):
        with pytest.raises(UnsafeXML):
            parse_feed(document, "http://h/")
        with pytest.raises(UnsafeXML):
            open_sitemap(document.replace(b"rss", b"urlset"))


def test_news_sitemap_fields_and_streaming_a_big_sitemap() -> None:
    news = (SITE / "sitemap-news.xml").read_bytes().replace(b"{{BASE}}", b"http://h")
    entries = {e.url: e for e in iter_entries(open_sitemap(news))}
    museum = entries["http://h/culture/2026/11/museum-opens-new-wing.html"]
    assert museum.title == "Museum Opens a New Wing for Maritime History"
    assert museum.date_published == "2026-11-22T10:00:00+00:00" and museum.language == "en"
    rows = "".join(f"<url><loc>http://h/{i}</loc></url>" for i in range(150_000))
    big = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'.encode()
    started = time.monotonic()
    assert sum(1 for _ in iter_entries(open_sitemap(big))) == 150_000
    assert time.monotonic() - started < 10
    with pytest.raises(NotASitemap):
        open_sitemap(b"<html><body>no</body></html>")
    with pytest.raises(NotASitemap):
        open_sitemap(gzip.compress(b"not xml at all"))


@pytest.mark.parametrize(("url", "kind"), [
    ("https://ex.com/", LinkKind.SECTION),
    ("https://ex.com/world/europe/", LinkKind.SECTION),
    ("https://ex.com/tag/climate/", LinkKind.NAVIGATION),
    ("https://ex.com/author/jane-doe/", LinkKind.NAVIGATION),
    ("https://ex.com/news/page/3", LinkKind.NAVIGATION),
    ("https://ex.com/news/?page=2", LinkKind.NAVIGATION),
    ("https://ex.com/report.PDF", LinkKind.MEDIA),
    ("https://ex.com/clip.mp4", LinkKind.MEDIA),
    ("https://ex.com/archive.tar.gz", LinkKind.MEDIA),
    ("https://ex.com/2026/11/20/bridge-reopens", LinkKind.ARTICLE),
    ("https://ex.com/news/world-europe-67234521", LinkKind.ARTICLE),
    ("https://ex.com/news/harbour-bridge-reopens-after-repairs.html", LinkKind.ARTICLE),
    ("https://ex.com/about", LinkKind.UNKNOWN),
])
def test_classify(url: str, kind: LinkKind) -> None:
    assert classify(url) is kind


def test_clean_link_and_media_types() -> None:
    assert clean_link("https://ex.com/a-b-c.html?utm_source=rss&id=3#top") == "https://ex.com/a-b-c.html?id=3"
    assert is_media_type("video/mp4") and is_media_type("application/pdf; x=y") and is_media_type("image/png")
    assert not is_media_type("text/html; charset=utf-8") and not is_media_type("application/xhtml+xml")


NEXT_LINKS = [
    ('<link rel="next" href="{href}">', "utf-8"),
    ('<a rel="nofollow next" href="{href}">2</a>', "utf-8"),
    ('<a href="{href}">Next page</a>', "utf-8"),
    ('<a href="{href}">\n  NEXT &raquo;</a>', "utf-8"),
    ('<a href="{href}">&nbsp;<span>Weiter</span></a>', "utf-8"),
    ('<a href="{href}">\n' + " " * 80 + 'Next\n</a>', "utf-8"),  # deep template indentation
    ('<a href="{href}"><img src="x.png"> continue reading</a>', "utf-8"),
    ('<a href="{href}">Nächste Seite ›</a>', "utf-8"),
    ('<a href="{href}">NÄCHSTE SEITE</a>', "cp1252"),
    ('<a href="{href}">Page suivante</a>', "latin-1"),
    ('<a href="{href}">Siguiente</a>', "utf-16"),
]


def next_url(response: HtmlResponse) -> str | None:
    """The next page as the crawl finds it: the worker reads the links, the pipeline picks one."""
    links = extract_page(response.body, response.encoding, response.url).next_links
    return next_page(links, response.url, {response.url})


@pytest.mark.parametrize(("link", "charset"), NEXT_LINKS)
def test_next_page_links_in_any_charset(link: str, charset: str) -> None:
    """Every kind of next-page link is found by the extraction worker, in the page's own charset,
    decoded the way Scrapy decided."""
    html = (f'<html><head><meta charset="{charset}"><title>x</title></head><body><p>Story.</p>'
            f'<script>var next = 1;</script>{link.format(href="/a/story.html?page=2")}</body></html>')
    response = HtmlResponse("http://h/a/story.html", body=html.encode(charset))
    assert next_url(response) == "http://h/a/story.html?page=2"


def test_no_next_page_in_scripts_or_sentences_and_lang_is_read_from_bytes() -> None:
    html = ('<!DOCTYPE html><HTML class="x" LANG="de-AT"><body><script>el.nextSibling; "Next"</script>'
            '<p>Es geht weiter im Text, and next year too.</p><a href="/b.html">More news</a>'
            '<a href="/a/other-story.html" rel="next">Next story</a></body></html>')
    response = HtmlResponse("http://h/a/story.html", body=html.encode())
    assert extract_page(response.body, response.encoding, response.url).next_links == (
        "http://h/a/other-story.html",)
    assert next_url(response) is None  # a rel=next to another article does not continue this one
    assert html_lang(response) == "de-AT"
    assert html_lang(HtmlResponse("http://h/", body=b"<html><body>x</body></html>")) is None


def test_page_kind_and_next_page() -> None:
    article = (SITE / "news" / "the-long-read-city-water.html").read_bytes()
    response = HtmlResponse("http://h/news/the-long-read-city-water.html", body=article)
    assert page_kind(response) == (True, "og:type=article")
    assert next_url(response) == "http://h/news/the-long-read-city-water-2.html"
    listing = HtmlResponse("http://h/news/all-the-latest-stories-today.html",
                           body=(SITE / "news" / "all-the-latest-stories-today.html").read_bytes())
    is_article, why = page_kind(listing)
    assert not is_article and "link density" in why
    brief = HtmlResponse("http://h/news/a-short-brief.html", body=b"<html><body><h1>Brief</h1>"
                         b"<p>The council meets on Monday to vote on the new budget.</p></body></html>")
    assert page_kind(brief) == (False, "only 11 words of paragraphs")
    assert page_kind(brief, listed=True)[0]  # a feed or sitemap said it is an entry: short is fine
    assert continues("http://h/a/story.html", "http://h/a/story.html?page=2")
    assert continues("http://h/a/story/", "http://h/a/story/2/")
    assert not continues("http://h/a/story.html", "http://h/a/another-story.html")
    assert not continues("http://h/a/story.html", "http://other/a/story-2.html")


def test_retry_after_values() -> None:
    assert retry_after_seconds("120") == 120.0
    now = datetime(2026, 11, 26, 0, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Thu, 26 Nov 2026 00:01:30 GMT", now) == 90.0
    assert retry_after_seconds("Wed, 25 Nov 2026 00:00:00 GMT", now) == 0.0
    assert retry_after_seconds("later please") is None


def test_site_configs(tmp_path: Path) -> None:
    for path in PACKAGE_SITES.glob("*.toml"):
        assert load_site(path).domains, path  # every shipped example loads
    bad = tmp_path / "bad.toml"
    for text, message in [
        ('feeds = ["/feed.rss"]', "is not an http(s) URL"),
        ('start_urls = ["https://ex.com/"]\nfollow = 2', "unknown keys ['follow']"),
        ('start_urls = ["https://ex.com/"]\ndeny = ["("]', "deny pattern '('"),
        ('description = "nothing to crawl"', "give at least one of feeds, sitemaps or start_urls"),
        ('start_urls = ["https://ex.com/"]\n[extract]\ndrop = ["x"]', "[extract] may only hold"),
    ]:
        bad.write_text(text)
        with pytest.raises(SiteConfigError, match=re.escape(message)):
            load_site(bad)
    with pytest.raises(SiteConfigError, match=r"no site config named 'nope' .*bbc-news"):
        find_site("nope", tmp_path)
    bad.write_text('feeds = ["/feed.rss"]\nextra_domains = ["cdn.example.net"]')
    site = load_site(bad, base_url="http://127.0.0.1:8000")
    assert site.feeds == ("http://127.0.0.1:8000/feed.rss",)
    assert site.domains == ["127.0.0.1", "cdn.example.net"]  # becomes the spider's allowed_domains


def test_discovery_settings_fail_with_their_name() -> None:
    assert DiscoveryConfig.from_settings(Settings({"NEWSARCHIVE_CONTACT": "mailto:me@example.org"})).contact
    for name, value, message in [
        ("NEWSARCHIVE_CONTACT", "call me", "NEWSARCHIVE_CONTACT must be an http(s):// or mailto: URL"),
        ("NEWSARCHIVE_SITEMAP_MAX_URLS", "0", "NEWSARCHIVE_SITEMAP_MAX_URLS must be > 0"),
        ("NEWSARCHIVE_RETRY_AFTER_MAX", "soon", "NEWSARCHIVE_RETRY_AFTER_MAX must be a number"),
    ]:
        with pytest.raises(SettingError, match=re.escape(message)):
            DiscoveryConfig.from_settings(Settings({name: value}))
    assert user_agent("https://me.example.org/bot") == f"newsarchive/{__version__} (+https://me.example.org/bot)"


def _next_page_links_by_xpath(root: Any, base_url: str) -> tuple[str, ...]:
    """next_page_links as it was written with XPaths, the reference its single walk must match."""
    hrefs = [str(href) for href in root.xpath(
        '//link[@rel="next"]/@href | //a[contains(concat(" ", @rel, " "), " next ")]/@href')]
    for anchor in root.xpath("//a[@href][string-length(normalize-space(.)) < 40]"):
        if NEXT_TEXT.match(" ".join(anchor.itertext())):
            hrefs.append(anchor.get("href"))
    links: dict[str, None] = {}
    for href in hrefs:
        try:
            links.setdefault(urljoin(base_url, href.strip()), None)
        except ValueError:
            continue
    return tuple(links)


TRICKY_NEXT_LINKS = [
    '<link rel="next" href="/l1">', '<link rel="Next" href="/l2">', '<link rel="next prefetch" href="/l3">',
    '<link rel="next">', '<a rel="next" href="/a1">x</a>', '<a rel="nofollow next" href="/a2">x</a>',
    '<a rel="next\tx" href="/a3">x</a>', '<a rel="NEXT" href="/a4">x</a>', '<a rel="next">Next</a>',
    '<a href="/t1">Next</a>', '<a href="/t2"> next page » </a>', '<a href="/t3"><span>Next</span> <i>›</i></a>',
    '<a href="/t4">Next' + "»" * 35 + "</a>", '<a href="/t5">Next' + "»" * 36 + "</a>",
    '<a href="/t6">\n\t Next \r\n' + " " * 60 + "</a>", '<a href="/t7">Next' + "\u00a0" * 40 + "</a>",
    '<a href="/t8">Next<b>' + " " * 40 + "»</b></a>", '<a href="/t9">ſiguiente</a>', '<a href="/t10">Nextday</a>',
    '<a href="/t11"><img src="i.png"></a>', '<a href="">Weiter</a>', '<a href="http://[bad/x">Next</a>',
    '<a href="/a1">Next</a>', '<div><a href="/t12">Continue<!-- c -->reading</a></div>',
]


@pytest.mark.parametrize("page", [*sorted(PAGES.rglob("*.html")), "tricky"], ids=str)
def test_next_page_links_match_the_xpath_reference(page: Path | str) -> None:
    """The one-walk search finds what the XPath search found, in the same order: on every test page,
    and on a page of tricky links (rel tokens, no href, text at the 40-character bound, XPath's white
    space against Unicode's, nested markup, a bad URL)."""
    if page == "tricky":
        head, body = "".join(TRICKY_NEXT_LINKS[:4]), "".join(TRICKY_NEXT_LINKS[4:])
        html = f"<html><head>{head}</head><body>{body}</body></html>"
    else:
        html = Path(page).read_text(encoding="utf-8", errors="replace")
    tree = parse_html(html)
    if tree is None:
        return
    assert next_page_links(tree, "http://h/a/story.html") == _next_page_links_by_xpath(tree, "http://h/a/story.html")
    if page == "tricky":
        assert len(next_page_links(tree, "http://h/a/story.html")) >= 10
