"""Each stage alone, on one core, with the project's own code; and plain trafilatura on all cores.

CPU time (time.process_time) per page is what the stage-sum limit needs: what one page costs one core.
"""

from __future__ import annotations

import multiprocessing
import time
import urllib.request
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.settings import Settings

from benchmarks._site import Page


def project_settings(**overrides: Any) -> Settings:
    settings = Settings()
    settings.setmodule("newsarchive.settings", priority="project")
    settings.setdict(overrides, priority="cmdline")
    return settings


def fetch_responses(pages: list[Page]) -> list[HtmlResponse]:
    """The sample pages as Scrapy responses, fetched once from nginx (real headers), untimed."""
    responses = []
    for page in pages:
        with urllib.request.urlopen(page.url, timeout=30) as reply:
            body = reply.read()
            headers = [(k, v) for k, v in reply.getheaders()]
        request = Request(page.url, meta={"download_latency": 0.001})
        responses.append(HtmlResponse(page.url, status=200, headers=headers, body=body, request=request,
                                      protocol="HTTP/1.1", ip_address=None))
    return responses


def measure_extract(responses: list[HtmlResponse]) -> tuple[float, list[Any]]:
    """Seconds of CPU per page for what an extraction worker does with a page (extract_page: decode
    as Scrapy decided, parse once, next-page links, article)."""
    from newsarchive.extract_pool import extract_page
    from newsarchive.extraction import ExtractionOptions

    options = ExtractionOptions.from_settings(project_settings())
    first = responses[0]
    extract_page(first.body, first.encoding, first.url, options)  # imports and caches, untimed
    articles = []
    started = time.process_time()
    for response in responses:
        articles.append(extract_page(response.body, response.encoding, response.url, options).article)
    return (time.process_time() - started) / len(responses), articles


def measure_write(responses: list[HtmlResponse], articles: list[Any], directory: Path,
                  gzip_level: int | None = None) -> tuple[float, int]:
    """CPU seconds per page for archiving it (request + response records, conversion record, sidecar
    line) with the project's writer, and the bytes written."""
    from newsarchive.archive import Archive
    from newsarchive.archiver import exchange_from_scrapy
    from newsarchive.config import ArchiveConfig
    from newsarchive.items import FetchedPage
    from newsarchive.pipelines import article_row

    overrides: dict[str, Any] = {"NEWSARCHIVE_DIR": str(directory)}
    if gzip_level is not None:
        overrides["NEWSARCHIVE_GZIP_LEVEL"] = gzip_level
    archive = Archive(ArchiveConfig.from_settings(project_settings(**overrides)), {"software": "benchmark"})
    started = time.process_time()
    for response, article in zip(responses, articles, strict=True):
        assert response.request is not None
        location, _ = archive.warc.write_exchange(exchange_from_scrapy(response.request, response))
        if article is None:
            continue
        page = FetchedPage(response.url, response.url, 200, "text/html", "2026-01-01T00:00:00Z", b"", "utf-8", location)
        conversion = archive.warc.write_conversion(response.url, article.text, location)
        archive.sidecars.write(article_row(page, article, conversion))
    archive.close()
    seconds = (time.process_time() - started) / len(responses)
    size = sum(p.stat().st_size for p in directory.rglob("*.warc.gz"))
    return seconds, size


def _traf_init() -> None:
    import trafilatura  # noqa: F401 - imported once per worker, before the clock starts


def _traf_one(path: str) -> int:
    import trafilatura

    with open(path, "rb") as fh:
        html = fh.read().decode("utf-8", errors="replace")
    text = trafilatura.extract(html)
    return len(text or "")


def plain_trafilatura(pages: list[Page], cores: int) -> dict[str, Any]:
    """trafilatura.extract with default options over every page, one process per core."""
    context = multiprocessing.get_context("forkserver")
    with context.Pool(cores, initializer=_traf_init) as pool:
        pool.map(_traf_one, [str(pages[0].path)] * cores)  # workers up and warm, untimed
        started = time.monotonic()
        lengths = pool.map(_traf_one, [str(p.path) for p in pages], chunksize=8)
        wall = time.monotonic() - started
    return {"pages": len(pages), "seconds": wall, "pages_per_s": len(pages) / wall,
            "with_text": sum(1 for n in lengths if n)}
