"""Finding articles: feeds, sitemaps (and robots.txt `Sitemap:` lines) and index pages.

Feeds, sitemaps and index pages are requested as `newsarchive_kind = "discovery"` (always refetched on
a recrawl, never extracted); the links they list become article requests that carry what the feed or
sitemap said about them as hints. Bad documents are logged and counted; the crawl goes on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.sitemap import sitemap_urls_from_robots

from newsarchive.article_filter import day_of
from newsarchive.feeds import NotAFeed, parse_feed
from newsarchive.links import LinkKind, classify, clean_link
from newsarchive.safexml import UnsafeXML
from newsarchive.sitemaps import NotASitemap, iter_entries, open_sitemap, sitemap_body
from newsarchive.spiders.base import DISCOVERED_META, HTML_TYPES, KIND_META, NewsSpider, content_type

logger = logging.getLogger(__name__)

XML_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
FEED_LINK_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
DEPTH_META = "newsarchive_depth"


def site_root(url: str) -> bool:
    """True for a bare site address (`https://example.com/`), where robots.txt names the sitemaps."""
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


class DiscoverySpider(NewsSpider):
    """Feeds, sitemaps and index pages to article requests; subclasses choose where to start."""

    allow_patterns: tuple[re.Pattern[str], ...] = ()
    deny_patterns: tuple[re.Pattern[str], ...] = ()
    max_depth = 0  # index pages are followed only by the site spider

    def __init__(self, **kwargs: Any) -> None:
        self.allowed_domains = []
        super().__init__(**kwargs)

    @property
    def allowed_domains(self) -> list[str]:
        return self._allowed

    @allowed_domains.setter
    def allowed_domains(self, domains: Iterable[str]) -> None:
        self._allowed = sorted({d.lower() for d in domains if d})
        self._domains = frozenset(self._allowed)

    def allow_domains_of(self, urls: Iterable[str], extra: Iterable[str] = ()) -> None:
        """Confine article requests to the sites we were pointed at (Scrapy's OffsiteMiddleware)."""
        self.allowed_domains = [h for h in ({urlsplit(url).hostname for url in urls} | set(extra)) if h]

    def discovery_request(self, url: str, callback: Any, **kwargs: Any) -> scrapy.Request | None:
        meta = {KIND_META: "discovery", **kwargs.pop("meta", {})}
        return self.valid_request(url, callback=callback, errback=self.errback, meta=meta, **kwargs)

    def on_site(self, url: str) -> bool:
        """OffsiteMiddleware's own rule (a host in allowed_domains or below it), checked before a
        Request is made: a sitemap of 50,000 foreign URLs then costs a set lookup each, not a request."""
        if not self.allowed_domains:
            return True
        host = (urlsplit(url).hostname or "").lower()
        while host:
            if host in self._domains:
                return True
            host = host.partition(".")[2]
        return False

    def wanted(self, url: str) -> LinkKind | None:
        """The link's kind if it is worth following at all (domain, allow/deny, media, navigation)."""
        if not self.on_site(url):
            self.crawler.stats.inc_value("newsarchive/skipped/offsite")
            return None
        if self.allow_patterns and not any(p.search(url) for p in self.allow_patterns):
            self.crawler.stats.inc_value("newsarchive/skipped/not_allowed")
            return None
        if any(p.search(url) for p in self.deny_patterns):
            self.crawler.stats.inc_value("newsarchive/skipped/denied")
            return None
        kind = classify(url)
        if kind is LinkKind.MEDIA:
            self.crawler.stats.inc_value("newsarchive/skipped/media_url")
            logger.debug("Not fetching %s: media or document", url)
            return None
        if kind is LinkKind.NAVIGATION:
            self.crawler.stats.inc_value("newsarchive/skipped/navigation")
            logger.debug("Not fetching %s: tag, author, category or pagination page", url)
            return None
        return kind

    def listed_article(self, url: str, hints: dict[str, Any], *dates: str | None) -> scrapy.Request | None:
        """An article request for a feed or sitemap entry, unless the URL or its date rules it out."""
        kind = self.wanted(url)  # first: the cheap checks, for sitemaps of 50,000 entries
        if kind is None:
            return None
        url = clean_link(url)
        if kind is LinkKind.SECTION:
            self.crawler.stats.inc_value("newsarchive/skipped/section")
            logger.debug("Not fetching %s as an article: it looks like a section front", url)
            return None
        if self.too_old(*dates):
            return None
        return self.article_request(url, hints)

    # -- feeds ------------------------------------------------------------------------------------

    def feed_request(self, url: str) -> scrapy.Request | None:
        return self.discovery_request(url, self.parse_feed)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        try:
            feed = parse_feed(response.body, response.url)
        except UnsafeXML as exc:
            stats.inc_value("newsarchive/discovery/unsafe_xml")
            logger.error("Refusing feed %s: it %s", response.url, exc)
            return
        except NotAFeed as exc:
            feeds = self.feed_links(response)
            if feeds:
                stats.inc_value("newsarchive/feed/autodiscovered", len(feeds))
                logger.info("%s is a web page, not a feed; following the feeds it names: %s", response.url, feeds)
                for url in feeds:
                    if (request := self.feed_request(url)) is not None:
                        yield request
                return
            stats.inc_value("newsarchive/feed/not_a_feed")
            logger.warning("Ignoring %s: not an RSS, RDF or Atom feed (%s)", response.url, exc)
            return
        kind = content_type(response)
        if kind and kind not in XML_TYPES:
            stats.inc_value("newsarchive/feed/wrong_content_type")
            logger.info("Feed %s is served as %s; read it as %s anyway", response.url, kind, feed.kind)
        if feed.errors:
            stats.inc_value("newsarchive/feed/malformed")
            logger.warning("Feed %s is malformed XML (%s); reading the %d entries that could be recovered",
                           response.url, feed.errors[0], len(feed.entries))
        stats.inc_value("newsarchive/feed/parsed")
        stats.inc_value("newsarchive/feed/entries", len(feed.entries))
        logger.info("Feed %s (%s): %d entries", response.url, feed.kind, len(feed.entries))
        for entry in feed.entries:
            hints = {"title": entry.title, "date_published": entry.date_published, "authors": entry.authors,
                     "language": entry.language, "source": "feed"}
            if (request := self.listed_article(entry.url, hints, entry.date_published)) is not None:
                yield request

    @staticmethod
    def feed_links(response: Response) -> list[str]:
        """Feeds an HTML page names in `<link rel=alternate>` (feed autodiscovery)."""
        if not isinstance(response, TextResponse):
            return []
        links = []
        for link in response.xpath('//link[contains(concat(" ", @rel, " "), " alternate ")][@href]'):
            if (link.attrib.get("type") or "").lower() in FEED_LINK_TYPES:
                links.append(urljoin(response.url, link.attrib["href"]))
        return links

    # -- sitemaps ---------------------------------------------------------------------------------

    def sitemap_request(self, url: str, depth: int = 0, offsite: bool = False) -> scrapy.Request | None:
        if site_root(url) or urlsplit(url).path == "/robots.txt":
            return self.discovery_request(urljoin(url, "/robots.txt"), self.parse_robots,
                                          meta={"allow_offsite": offsite})
        return self.discovery_request(url, self.parse_sitemap, cb_kwargs={"depth": depth},
                                      meta={"allow_offsite": offsite})

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        urls = list(sitemap_urls_from_robots(response.body, base_url=response.url))
        if not urls:
            urls = [urljoin(response.url, "/sitemap.xml")]
            logger.info("%s names no sitemap; trying %s", response.url, urls[0])
        self.crawler.stats.inc_value("newsarchive/sitemap/from_robots", len(urls))
        for url in urls:  # robots.txt may put sitemaps on another host (sitemaps.org, cross-submits)
            if (request := self.discovery_request(url, self.parse_sitemap, cb_kwargs={"depth": 0},
                                                  meta={"allow_offsite": True})) is not None:
                yield request

    def parse_sitemap(self, response: Response, depth: int = 0) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        try:
            body = sitemap_body(response, self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
            sitemap = open_sitemap(body)
        except UnsafeXML as exc:
            stats.inc_value("newsarchive/discovery/unsafe_xml")
            logger.error("Refusing sitemap %s: it %s", response.url, exc)
            return
        except NotASitemap as exc:
            stats.inc_value("newsarchive/sitemap/not_a_sitemap")
            logger.warning("Ignoring %s: not a sitemap (%s)", response.url, exc)
            return
        stats.inc_value(f"newsarchive/sitemap/{sitemap.type}")
        limit, count = self.discovery.sitemap_max_urls, 0
        for entry in iter_entries(sitemap):
            if count >= limit:
                stats.inc_value("newsarchive/sitemap/truncated")
                logger.warning("Sitemap %s lists more than %d entries (NEWSARCHIVE_SITEMAP_MAX_URLS); "
                               "ignoring the rest", response.url, limit)
                break
            count += 1
            if sitemap.type == "sitemapindex":
                request = self.child_sitemap(urljoin(response.url, entry.url), entry.lastmod, depth)
            else:
                hints = {"title": entry.title, "date_published": entry.date_published,
                         "language": entry.language, "source": "sitemap"}
                request = self.listed_article(urljoin(response.url, entry.url), hints, entry.date_published,
                                              entry.lastmod)
            if request is not None:
                yield request
        stats.inc_value("newsarchive/sitemap/entries", count)
        logger.info("Sitemap %s (%s): %d entries", response.url, sitemap.type, count)

    def child_sitemap(self, url: str, lastmod: str | None, depth: int) -> scrapy.Request | None:
        if depth + 1 > self.discovery.sitemap_max_depth:
            self.crawler.stats.inc_value("newsarchive/sitemap/too_deep")
            logger.warning("Not following sitemap %s: nested deeper than NEWSARCHIVE_SITEMAP_MAX_DEPTH=%d",
                           url, self.discovery.sitemap_max_depth)
            return None
        day = day_of(lastmod)
        if self.since is not None and day is not None and day < self.since:  # nothing new in it
            self.crawler.stats.inc_value("newsarchive/sitemap/unchanged_since")
            return None
        return self.discovery_request(url, self.parse_sitemap, cb_kwargs={"depth": depth + 1},
                                      meta={"allow_offsite": True})

    # -- index pages (site spider) -----------------------------------------------------------------

    def listing_request(self, url: str, depth: int) -> scrapy.Request | None:
        return self.discovery_request(url, self.parse_listing, meta={DEPTH_META: depth})

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """An index page (home, section): its article links, and deeper sections within max_depth."""
        kind = content_type(response)
        if not isinstance(response, TextResponse) or (kind and kind not in HTML_TYPES):
            self.crawler.stats.inc_value("newsarchive/skipped/not_html")
            logger.warning("Index page %s is not HTML (%s)", response.url, kind or "no content type")
            return
        depth = int(response.meta.get(DEPTH_META, 0))
        self.crawler.stats.inc_value("newsarchive/discovery/index_pages")
        for link in LinkExtractor(deny_extensions=[], unique=True).extract_links(response):
            url = clean_link(link.url)
            link_kind = self.wanted(url)
            if link_kind is LinkKind.SECTION:
                if depth < self.max_depth and (request := self.listing_request(url, depth + 1)) is not None:
                    yield request
                continue
            if link_kind is not None and (request := self.article_request(
                    url, {"source": "link"}, meta={DEPTH_META: depth + 1})) is not None:
                yield request

    def not_an_article(self, response: Response) -> Iterable[Any]:
        """A link that looked like it might be an article but is an index page: follow it within depth."""
        depth = int(response.meta.get(DEPTH_META, self.max_depth + 1))
        if depth <= self.max_depth and response.meta.get(DISCOVERED_META):
            response.meta[DEPTH_META] = depth
            yield from self.parse_listing(response)
