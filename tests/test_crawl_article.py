"""End to end: a real `scrapy crawl article` against the loopback site, read back with warcio."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.helpers import (
    CrawlResult,
    Record,
    check_warc,
    fold,
    load_seed_expected,
    read_records,
    read_sidecars,
    scrapy_crawl,
)

SIDECAR_FIELDS = {
    "url", "final_url", "canonical_url", "fetched_at", "status", "content_type", "warc_file",
    "warc_record_id", "warc_offset", "warc_length", "payload_digest", "title", "authors",
    "date_published", "language", "sitename", "description", "tags", "text", "word_count", "extractor",
}

BAD_INPUTS = [
    "/status/404", "/status/500", "/loop/a", "/binary.bin", "/empty.html", "/no-article.html",
    "/slow?s=6", "/truncated",
]
GOOD_INPUTS = [
    "/article-plain.html", "/raw/legacy-cp1252.html?type=text/html", "/raw/legacy-koi8r.html?type=text/html",
    "/broken.html", "/gzip/article-plain.html", "/chunked/article-plain.html", "/phrase/x",
    "/redirect?to=/seed/sputnik-article.html",
]


@pytest.fixture(scope="module")
def crawl(site: str, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    archive = tmp_path_factory.mktemp("archive")
    urls = [site + path for path in GOOD_INPUTS + BAD_INPUTS] + ["not a url", "http://127.0.0.1:9/refused"]
    return scrapy_crawl("article", archive, "-a", "url=" + ",".join(urls),
                        settings={"DOWNLOAD_TIMEOUT": "3", "RETRY_TIMES": "0"})


def responses(records: list[Record]) -> dict[str, Record]:
    return {r.headers["WARC-Target-URI"]: r for r in records if r.type == "response"}


def test_crawl_goes_on_through_bad_input_and_exits_zero(crawl: CrawlResult) -> None:
    assert crawl.returncode == 0, crawl.log[-3000:]
    stats = crawl.stats()
    assert stats["newsarchive/skipped/bad_url"] == 1
    assert stats["newsarchive/skipped/not_html"] == 1
    assert stats["newsarchive/skipped/empty"] == 1
    assert stats["newsarchive/failed/DownloadTimeoutError"] == 1
    assert stats["newsarchive/failed/DownloadConnectionRefusedError"] == 1
    assert stats["newsarchive/failed/HttpError"] >= 2
    assert stats["newsarchive/warc/truncated"] == 1
    assert stats["newsarchive/no_article"] >= 1
    assert "Skipping malformed URL 'not a url'" in crawl.log


def test_independent_checker_accepts_the_archive(crawl: CrawlResult) -> None:
    result = check_warc(crawl.archive)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failures" in result.stdout
    assert not list(crawl.archive.rglob("*.open"))


def test_every_response_is_archived_with_its_request(crawl: CrawlResult, site: str) -> None:
    records = read_records(crawl.archive)
    assert records[0].type == "warcinfo"
    info = records[0].raw_body.decode()
    assert "software: newsarchive/" in info and "robots: obey" in info and "format: WARC File Format 1.1" in info
    by_url = responses(records)
    for path in [*GOOD_INPUTS, "/status/404", "/status/500", "/loop/a", "/binary.bin", "/empty.html"]:
        assert site + path in by_url, path
    requests = {r.headers["WARC-Concurrent-To"]: r for r in records if r.type == "request"}
    for response in by_url.values():
        request = requests[response.headers["WARC-Record-ID"]]
        assert request.headers["WARC-Target-URI"] == response.headers["WARC-Target-URI"]
        assert request.http_status.startswith("/") and request.http_status.endswith("HTTP/1.1")
        assert response.headers["WARC-IP-Address"] == "127.0.0.1"
        assert response.headers["WARC-Payload-Digest"].startswith("sha1:")
    # redirects are archived as they were served
    redirect = by_url[site + "/redirect?to=/seed/sputnik-article.html"]
    assert redirect.http_status.startswith("301")
    assert ("Location", "/seed/sputnik-article.html") in redirect.http_headers
    # the server's own status line, not one made up from the code
    assert by_url[site + "/phrase/x"].http_status == "200 Fine Thanks"
    assert by_url[site + "/status/404"].http_status == "404 Not Found"


def test_bodies_are_stored_as_served_before_decompression(crawl: CrawlResult, site: str) -> None:
    by_url = responses(read_records(crawl.archive))
    compressed = by_url[site + "/gzip/article-plain.html"]
    assert ("Content-Encoding", "gzip") in compressed.http_headers
    assert compressed.raw_body[:2] == b"\x1f\x8b"
    assert b"Tram Line to Reach the New Hospital" in gzip.decompress(compressed.raw_body)
    chunked = by_url[site + "/chunked/article-plain.html"]
    names = {name.lower() for name, _ in chunked.http_headers}
    assert "transfer-encoding" not in names  # body is stored de-chunked, so the header must not claim chunks
    truncated = by_url[site + "/truncated"]
    assert truncated.headers["WARC-Truncated"] == "disconnect"


def test_articles_get_text_records_and_sidecar_rows(crawl: CrawlResult, site: str) -> None:
    records = read_records(crawl.archive)
    rows = read_sidecars(crawl.archive)
    by_id = {r.headers["WARC-Record-ID"]: r for r in records}
    urls = {row["url"] for row in rows}
    assert urls == {site + p for p in GOOD_INPUTS} | {site + "/truncated"}
    for row in rows:
        assert SIDECAR_FIELDS <= row.keys(), SIDECAR_FIELDS - row.keys()
        response = by_id[row["warc_record_id"]]
        assert response.type == "response"
        assert response.headers["WARC-Target-URI"] == row["final_url"]
        assert response.headers["WARC-Payload-Digest"] == row["payload_digest"]
        assert response.file.name == Path(row["warc_file"]).name
        assert response.offset == row["warc_offset"]
        # the offset and length address exactly one gzip member holding that record
        with open(crawl.archive / row["warc_file"], "rb") as fh:
            fh.seek(row["warc_offset"])
            member = fh.read(row["warc_length"])
        record = next(iter(ArchiveIterator(io.BytesIO(member))))
        assert record.rec_headers.get_header("WARC-Record-ID") == row["warc_record_id"]
        conversion = by_id[row["conversion_record_id"]]
        assert conversion.type == "conversion"
        assert conversion.headers["WARC-Refers-To"] == row["warc_record_id"]
        assert conversion.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert conversion.raw_body.decode("utf-8") == row["text"]
        assert isinstance(row["authors"], list) and isinstance(row["tags"], list)
        assert row["word_count"] == len(row["text"].split())
        assert row["fetched_at"].endswith("Z") and row["status"] == 200
        assert row["extractor"]["name"] == "trafilatura" and row["extractor"]["version"]


def test_legacy_charsets_declared_in_meta_are_decoded(crawl: CrawlResult, site: str) -> None:
    rows = {row["url"]: row for row in read_sidecars(crawl.archive)}
    cp1252 = rows[site + "/raw/legacy-cp1252.html?type=text/html"]
    assert "Café owners in the old town say the “winter terrace” rule will cost them €2,000" in cp1252["text"]
    koi8 = rows[site + "/raw/legacy-koi8r.html?type=text/html"]
    assert "В городе открылся новый парк с большим прудом" in koi8["text"]
    broken = rows[site + "/broken.html"]
    assert "Volunteers removed four tonnes of rubbish" in broken["text"]


def test_seed_article_clean_layout(crawl: CrawlResult, site: str) -> None:
    expected = load_seed_expected()
    row = next(r for r in read_sidecars(crawl.archive) if r["final_url"].endswith("/seed/sputnik-article.html"))
    assert row["url"] == site + "/redirect?to=/seed/sputnik-article.html"
    text = fold(row["text"])
    position = 0
    for paragraph in expected["body_paragraphs"]:
        found = text.find(fold(paragraph), position)
        assert found >= 0, f"missing or out of order: {paragraph[:60]}"
        position = found + len(fold(paragraph))
    for boilerplate in expected["boilerplate_absent"]:
        assert fold(boilerplate) not in text, boilerplate
    assert row["title"] == expected["title"]
    assert row["date_published"].startswith(expected["date"])
    assert row["tags"] == expected["tags"]


@pytest.mark.parametrize(("max_pages", "pages"), [("10", 3), ("2", 2)])
def test_multipage_article_is_one_row_up_to_a_failed_page_or_the_limit(
        site: str, tmp_path: Path, max_pages: str, pages: int) -> None:
    """The worker finds "Next page"; the pipeline fetches and archives each page in turn. Page 4 is a
    404: counted as a failed request, the article keeps pages 1-3. With a limit of 2 pages, page 3 is
    never asked for."""
    first = site + "/serial/story.html"
    result = scrapy_crawl("article", tmp_path, "-a", f"url={first}",
                          settings={"NEWSARCHIVE_ARTICLE_MAX_PAGES": max_pages})
    assert result.returncode == 0, result.log[-3000:]
    [row] = read_sidecars(tmp_path)
    assert [f"PAGE-{n}-END" in row["text"] for n in (1, 2, 3)] == [True, True, pages == 3]
    later = [f"{first}?page={n}" for n in range(2, pages + 1)]
    assert [part["url"] for part in row["more_pages"]] == later
    archived = responses(read_records(tmp_path))
    for part in row["more_pages"]:
        assert archived[part["url"]].headers["WARC-Record-ID"] == part["warc_record_id"]
    stats = result.stats()
    assert stats["newsarchive/multipage_articles"] == 1 and stats["newsarchive/articles"] == 1
    failed = [f"{first}?page=4"] if pages == 3 else []  # archived as served, counted as failed
    assert sorted(url for url in archived if "/serial/" in url) == [first, *later, *failed]
    assert stats.get("newsarchive/failed/HttpError", 0) == len(failed)


def test_nothing_archived_exits_non_zero(tmp_path: Path) -> None:
    result = scrapy_crawl("article", tmp_path, "-a", "url=http://127.0.0.1:9/a,http://127.0.0.1:9/b",
                          settings={"RETRY_TIMES": "0", "ROBOTSTXT_OBEY": "False"})
    assert result.returncode == 1, result.log[-2000:]
    assert not list(tmp_path.rglob("*.warc.gz"))


def test_urls_file_and_rotation(site: str, tmp_path: Path) -> None:
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text(f"# pages to keep\n{site}/article-plain.html\n\n{site}/broken.html\n"
                         f"{site}/raw/legacy-cp1252.html?type=text/html\n")
    archive = tmp_path / "archive"
    result = scrapy_crawl("article", archive, "-a", f"urls_file={urls_file}",
                          settings={"NEWSARCHIVE_WARC_MAX_BYTES": "1500", "NEWSARCHIVE_WARC_PREFIX": "test"})
    assert result.returncode == 0, result.log[-2000:]
    files = sorted(archive.rglob("*.warc.gz"))
    assert len(files) >= 3
    for path in files:
        assert path.parent.name.count("-") == 2  # partitioned by crawl date, YYYY-MM-DD
        prefix, stamp, serial, _host, pid = path.name.removesuffix(".warc.gz").rsplit("-", 4)
        assert prefix == "test" and len(stamp) == 17 and serial.isdigit() and pid.isdigit()
    assert len({p.name for p in files}) == len(files)
    assert len(read_sidecars(archive)) == 3
    assert check_warc(archive).returncode == 0


def test_bad_setting_fails_at_start_with_its_name(site: str, tmp_path: Path) -> None:
    result = scrapy_crawl("article", tmp_path, "-a", f"url={site}/article-plain.html",
                          settings={"NEWSARCHIVE_GZIP_LEVEL": "12"})
    assert result.returncode != 0
    assert "NEWSARCHIVE_GZIP_LEVEL must be 1..9" in result.log
    assert not list(tmp_path.rglob("*.warc.gz"))
