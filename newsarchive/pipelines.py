"""Item pipeline: extract an archived page in a worker, then write its text record and sidecar line.

Data flows one way: the spider yields a FetchedPage that already carries its WARC location; this
pipeline adds the conversion record and the sidecar row, and returns the row as the item. A
multi-page article: the worker also returns the page's next-page links (it parsed the page anyway),
and the pipeline has the spider fetch and archive the next page, extracts it in turn, and so on.

Backpressure: when as many pages wait for a worker as the workers hold (NEWSARCHIVE_EXTRACT_QUEUE),
the engine is paused, so no new download starts until the workers catch up; pages waiting for
extraction stay bounded by twice the queue plus the downloads already under way.

Site-level boilerplate has an order problem: the first pages of a site are extracted before the
crawl has seen what repeats. So the pipeline *holds* a site's articles (extracted, response already
in the WARC, no conversion record or sidecar line yet) until the site has
NEWSARCHIVE_BOILERPLATE_HOLD pages, or until the crawl closes; then it filters all of them with what
it has learnt and writes them. Later pages of that site are filtered with everything seen before
them and written at once. A sidecar line is still written only after the records it points at.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from newsarchive.archive import Archive
from newsarchive.article_filter import article_language, drop_reason
from newsarchive.boilerplate import BlockStats, BoilerplateSettings, site_of
from newsarchive.extract_pool import ExtractionFailed, ExtractionPool, PageExtraction
from newsarchive.extraction import ExtractedArticle, ExtractionOptions, extractor_info
from newsarchive.items import FetchedPage, PagePart
from newsarchive.pagetype import next_page
from newsarchive.state import CrawlState
from newsarchive.warc_writer import RecordLocation

logger = logging.getLogger(__name__)

#: The later pages of a multi-page article, extracted: (url, article) in page order.
Parts = list[tuple[str, ExtractedArticle]]

#: Keys under which a site's boilerplate counts are kept in the crawl state: its blocks, and the
#: documents already counted (apart, so that the blocks seen only once need not be loaded).
STATE_KEY_PREFIX = "boilerplate:"
DOCS_KEY_PREFIX = "boilerplate-docs:"
#: A site's new counts go to the crawl state every so many documents, so memory need not hold them.
SAVE_EVERY_DOCS = 25


def article_row(page: FetchedPage, article: ExtractedArticle, conversion: RecordLocation) -> dict[str, Any]:
    """One sidecar line: where the capture is, and what the article says (fields in the README)."""
    hints = page.hints
    return {
        "url": page.url,
        "final_url": page.final_url,
        "canonical_url": article.canonical_url or page.final_url,
        "fetched_at": page.fetched_at,
        "status": page.status,
        "content_type": page.content_type,
        "warc_file": page.record.warc_file,
        "warc_record_id": page.record.record_id,
        "warc_offset": page.record.offset,
        "warc_length": page.record.length,
        "warc_date": page.record.warc_date,
        "payload_digest": page.record.payload_digest,
        "conversion_record_id": conversion.record_id,
        "title": article.title or hints.get("title"),
        "authors": article.authors or list(hints.get("authors") or []),
        "date_published": article.date_published or hints.get("date_published"),
        "date_modified": article.date_modified,
        "language": article_language(page, article),
        "sitename": article.sitename,
        "description": article.description,
        "tags": article.tags,
        "image": article.image,
        "text": article.text,
        "word_count": article.word_count,
        "source": hints.get("source"),
        "more_pages": [
            {"url": part.final_url, "warc_file": part.record.warc_file, "warc_record_id": part.record.record_id,
             "warc_offset": part.record.offset, "warc_length": part.record.length}
            for part in page.more_pages
        ],
        "supersedes": page.supersedes,
        "extractor": extractor_info(),
    }


def _without_page(item: FetchedPage) -> FetchedPage:
    """The item without its page's content (extraction is done), to hold it cheaply."""
    return replace(item, body=b"")


class ArticlePipeline:
    """Extraction in worker processes, then conversion record and sidecar row."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("NEWSARCHIVE_ENABLED", True):
            raise NotConfigured
        self.crawler = crawler
        self._sidecar_lock = asyncio.Lock()
        self.stats = crawler.stats
        self.archive = Archive.for_crawler(crawler)
        config = self.archive.config
        self.pool = ExtractionPool(
            workers=config.extract_workers,
            timeout=config.extract_timeout,
            max_in_flight=config.extract_queue,
            options=ExtractionOptions.from_settings(crawler.settings),
            faults=config.extract_test_faults,
        )
        if config.extract_test_faults:
            logger.warning("NEWSARCHIVE_TEST_EXTRACT_FAULTS is set: extraction misbehaves on purpose (%s)",
                           ", ".join(kind for kind, _ in config.extract_test_faults))
        self.paused_engine = False
        self.held = 0  # pages in this pipeline: in a worker or waiting for one
        self.hold_limit = 2 * config.extract_queue
        self.limit = crawler.settings.getint("CLOSESPIDER_ITEMCOUNT")  # set by `-a limit=N`
        self.written = 0
        # Site-level boilerplate: learned from every page (see newsarchive.boilerplate), applied
        # once a site has enough pages; counts are loaded from and added to the crawl state.
        settings = BoilerplateSettings.from_settings(crawler.settings)
        self.blocks = BlockStats(min_docs=settings.min_docs) if settings.enabled else None
        self.hold = settings.hold if settings.enabled else 0
        self.hold_total = max(settings.hold, settings.hold_total)
        #: site -> articles waiting for the site's statistics; a site absent here is "released".
        self.site_held: OrderedDict[str, list[tuple[FetchedPage, ExtractedArticle, Parts]]] = OrderedDict()
        self.released: set[str] = set()
        self.loaded_sites: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticlePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.pool.start()

    async def close_spider(self) -> None:
        for site in list(self.site_held):
            await self._release(site)
        for site in sorted(self.loaded_sites):
            self._save_site(site)
        self.pool.close()
        pids = sorted(self.pool.worker_pids)
        if self.blocks is not None and self.blocks.forgotten:
            self.stats.set_value("newsarchive/boilerplate/blocks_forgotten", self.blocks.forgotten)
        self.stats.set_value("newsarchive/extract/peak_in_flight", self.pool.peak_in_flight)
        self.stats.set_value("newsarchive/extract/peak_waiting", self.pool.peak_waiting)
        self.stats.set_value("newsarchive/extract/worker_processes", len(pids))
        self.stats.set_value("newsarchive/extract/worker_cpu_seconds", round(self.pool.cpu_seconds, 3))
        self.stats.set_value("newsarchive/extract/worker_idle_seconds", round(self.pool.idle_seconds, 3))
        if pids:
            logger.info("Extraction ran in worker processes %s (crawl process %d)",
                        ", ".join(map(str, pids)), os.getpid())

    async def _write_claimed(self, row: dict[str, Any], url: str, capture: str) -> bool:
        """Writes the sidecar line; False if a worker of the same shared crawl had written this URL's.

        A scheduler shared by several workers (newsarchive.redis_scheduler) grants each URL's article
        once; it sends its claim just before the line is written and reads the answer after, so that a
        worker killed at any moment after writing has claimed it. Without one, the line is just written.
        """
        engine = self.crawler.engine
        claim = getattr(engine.scheduler, "claim_article", None) if engine is not None else None
        if claim is None:
            self.archive.sidecars.write(row)
            return True
        return bool(await claim(url, capture, lambda: self.archive.sidecars.write(row)))

    def _site_block_stats(self) -> BlockStats | None:
        """This crawl's statistics, or those shared by all workers of a shared crawl (in Redis)."""
        engine = self.crawler.engine
        shared = getattr(engine.scheduler, "shared_block_stats", None) if engine is not None else None
        return shared(self.blocks) if shared is not None and self.blocks is not None else self.blocks

    def _backpressure(self) -> None:
        """Pauses the engine while the workers are behind; resumes it when they catch up."""
        engine = self.crawler.engine
        if engine is None:
            return
        behind = self.held >= self.hold_limit
        if behind and not self.paused_engine and not engine.paused:
            engine.pause()
            self.paused_engine = True
            self.stats.inc_value("newsarchive/extract/backpressure_pauses")
        elif not behind and self.paused_engine:
            engine.unpause()  # the engine looks for requests again when this item completes
            self.paused_engine = False

    async def extract(
        self, body: bytes, encoding: str, url: str, drop_selectors: tuple[str, ...]
    ) -> PageExtraction:
        """The article on one page and its next-page links; DropItem (counted) when extraction crashes
        or times out."""
        self.held += 1
        self._backpressure()
        try:
            return await self.pool.extract(body, encoding, url, drop_selectors)
        except ExtractionFailed as exc:
            self.stats.inc_value("newsarchive/extract_failed")
            logger.error("Extraction failed for %s: %s (page is archived)", url, exc)
            raise DropItem(f"extraction failed: {exc}") from None
        except Exception as exc:
            self.stats.inc_value("newsarchive/extract_failed")
            logger.exception("Extraction raised for %s (page is archived)", url)
            raise DropItem(f"extraction raised {type(exc).__name__}") from None
        finally:
            self.held -= 1
            self._backpressure()

    async def later_pages(self, item: FetchedPage, links: tuple[str, ...]) -> Parts:
        """The later pages of a multi-page article, fetched (by the spider) while their links continue
        the first page, each extracted in turn: (url, article) in page order; ``item.more_pages``
        lists every page fetched, so that the sidecar points at all of their records."""
        spider = self.crawler.spider
        fetch = getattr(spider, "fetch_later_page", None)
        parts: Parts = []
        seen = {item.url, item.final_url}
        while fetch is not None and (url := next_page(links, item.final_url, seen)) is not None:
            page = await fetch(url, 1 + len(item.more_pages))
            if page is None:
                break
            seen |= {page.url, page.final_url}
            item.more_pages.append(PagePart(page.url, page.final_url, page.record))
            more, links = await self.extract(page.body, page.encoding, page.final_url, item.rules.drop_selectors)
            if more is not None:
                parts.append((page.final_url, more))
        if item.more_pages:
            self.stats.inc_value("newsarchive/multipage_articles")
        return parts

    def check_limit(self) -> None:
        """`-a limit=N`: once N articles are written, later ones are dropped (the crawl is closing)."""
        if self.limit and self.written >= self.limit:
            self.stats.inc_value("newsarchive/dropped/over_limit")
            raise DropItem(f"limit of {self.limit} articles reached", log_level="INFO")

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        self.check_limit()
        article, links = await self.extract(item.body, item.encoding, item.final_url, item.rules.drop_selectors)
        if article is None:
            self.stats.inc_value("newsarchive/no_article")
            logger.info("No article text on %s (page is archived)", item.final_url)
            if not self.archive.closed:
                self.archive.state.mark_done(item.record.record_id, (item.url, item.final_url))
            raise DropItem("no article text")
        reason = drop_reason(item, article)
        if reason is not None:
            self.stats.inc_value(f"newsarchive/dropped/{reason}")
            logger.info("Not keeping %s: %s (page is archived)", item.final_url, reason.replace("_", " "))
            if not self.archive.closed:  # archived and judged: later runs need not fetch it again
                self.archive.state.mark_done(item.record.record_id, (item.url, item.final_url))
            raise DropItem(reason, log_level="INFO")
        parts = await self.later_pages(item, links) if links else []
        blocks = self._site_block_stats()
        if blocks is None:
            return await self._write(item, article, parts)
        site = site_of(item.final_url)
        shared = blocks is not self.blocks  # a shared crawl: statistics live in Redis, kept across runs
        if not shared:
            self._load_site(site)
        blocks.observe(site, item.final_url, article.paragraphs)
        for url, more in parts:  # each page of a multi-page article is a document of its own
            blocks.observe(site_of(url), url, more.paragraphs)
        if not shared and blocks.unsaved_docs(site) >= SAVE_EVERY_DOCS:
            self._save_site(site)
        # A shared crawl never holds articles: its request is acknowledged once the item is processed,
        # and a held article would be lost with its worker. Leaks on a site's first pages are left to
        # `newsarchive reextract`.
        if site not in self.released and (shared or self.hold <= 1 or blocks.site_docs(site) >= self.hold):
            await self._release(site)  # enough pages known (in this run or from earlier runs)
        if site in self.released:
            return await self._write(item, article, parts)
        self.site_held.setdefault(site, []).append((_without_page(item), article, parts))
        self.stats.inc_value("newsarchive/boilerplate/held")
        if sum(map(len, self.site_held.values())) > self.hold_total:  # memory bound: release the biggest site
            await self._release(max(self.site_held, key=lambda s: len(self.site_held[s])))
        return {"url": item.url, "final_url": item.final_url, "held_for": site}

    # -- statistics kept in the crawl state, so each run starts from what earlier runs learned ---------
    def _store(self) -> CrawlState | None:
        """The crawl state (its named counters keep the statistics), unless the archive is closed."""
        return None if self.archive.closed else self.archive.state

    def _load_site(self, site: str) -> None:
        if site in self.loaded_sites or self.blocks is None:
            return
        self.loaded_sites.add(site)
        store = self._store()
        if store is not None:
            # Blocks seen in one document only are the bulk (articles' own paragraphs) and can never be
            # boilerplate alone: they stay in the store, counted, but are not loaded.
            counts = {**store.counts(DOCS_KEY_PREFIX + site), **store.counts(STATE_KEY_PREFIX + site, min_value=2)}
            if counts:
                self.blocks.merge_counts(site, counts)
                self.stats.inc_value("newsarchive/boilerplate/sites_loaded")

    def _save_site(self, site: str) -> None:
        store = self._store()
        if store is None or self.blocks is None or site not in self.loaded_sites:
            return
        delta = self.blocks.take_unsaved(site)
        # Documents first: killed between the two, a run forgets some blocks (keeps text) rather than
        # counting them again on the next run (which could remove text).
        docs = {name: value for name, value in delta.items() if name.startswith("doc:")}
        if docs:
            store.add_counts(DOCS_KEY_PREFIX + site, docs)
        if len(docs) < len(delta):
            store.add_counts(STATE_KEY_PREFIX + site, {n: v for n, v in delta.items() if not n.startswith("doc:")})

    async def _release(self, site: str) -> None:
        """Filter and write every held article of ``site``; its later articles are written at once."""
        self.released.add(site)
        self._save_site(site)
        for page, article, parts in self.site_held.pop(site, []):
            try:
                await self._write(page, article, parts)
            except DropItem as exc:
                logger.info("Held article of %s not written: %s", page.final_url, exc)
            await asyncio.sleep(0)  # a site's 50 held articles would hold up the reactor (and the workers)

    async def _write(self, item: FetchedPage, article: ExtractedArticle,
               parts: Parts) -> dict[str, Any]:
        """Filter site boilerplate, join the pages, then the conversion record and the sidecar line."""
        self.check_limit()
        article = self._drop_site_boilerplate(site_of(item.final_url), article)
        if parts:
            paragraphs = list(article.paragraphs or article.text.splitlines())
            for url, more in parts:
                more = self._drop_site_boilerplate(site_of(url), more)
                paragraphs += list(more.paragraphs or more.text.splitlines())
            article = article.with_paragraphs(paragraphs)
        if self.archive.closed:
            raise DropItem("archive already closed")
        conversion = self.archive.warc.write_conversion(item.final_url, article.text, item.record)
        row = article_row(item, article, conversion)
        async with self._sidecar_lock:  # a line withdrawn must be the last one of its file
            end = self.archive.sidecars.end(row["warc_file"])
            if not await self._write_claimed(row, item.url, item.record.record_id):
                self.archive.sidecars.retract(row["warc_file"], end)
                self.stats.inc_value("newsarchive/redis/duplicate_article")
                logger.info("Article %s already written by another worker of this crawl; line withdrawn", item.url)
                raise DropItem("article already written by another worker")
        self.written += 1
        self.archive.state.mark_done(item.record.record_id, (item.url, item.final_url))  # after its line
        self.stats.inc_value("newsarchive/articles")
        return row

    def _drop_site_boilerplate(self, site: str, article: ExtractedArticle) -> ExtractedArticle:
        blocks = self._site_block_stats()
        if blocks is None or not article.paragraphs:
            return article
        kept = blocks.filter(site, article.paragraphs)
        if not kept or len(kept) == len(article.paragraphs):
            return article  # never empty an article on statistics alone
        self.stats.inc_value("newsarchive/boilerplate/blocks_removed", len(article.paragraphs) - len(kept))
        return article.with_paragraphs(kept)
