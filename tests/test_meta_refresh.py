"""Meta refresh: followed as Scrapy follows it, while pages without the tag skip Scrapy's decoding."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.response import get_meta_refresh

from newsarchive.meta_refresh import may_refresh
from newsarchive.siteserver import serve_folder
from tests.helpers import check_warc, read_records, read_sidecars, scrapy_crawl
from tests.test_throughput_plumbing import article

REFRESH_TAG = '<meta http-equiv="Refresh" content="0; url={target}">'


def response(body: bytes, content_type: str = "text/html") -> HtmlResponse:
    url = "http://127.0.0.1/page.html"
    return HtmlResponse(url, body=body, headers={"Content-Type": content_type}, request=Request(url))


def page_with_tag_after(prefix_chars: int, filler: str, tag: str = REFRESH_TAG.format(target="/next.html")) -> str:
    return f"<html><head><title>t</title><!-- {filler * prefix_chars} -->{tag}</head><body>x</body></html>"


@pytest.mark.parametrize("filler", ["a", "é", "水", "😀"])  # 1 to 4 bytes a character in UTF-8
@pytest.mark.parametrize("prefix_chars", [0, 1000, 4000, 4060, 4100, 5000, 9000])
def test_prefilter_never_hides_a_tag_scrapy_would_follow(filler: str, prefix_chars: int) -> None:
    html = page_with_tag_after(prefix_chars, filler)
    for encoding in ("utf-8", "utf-16", "gb18030"):
        page = response(html.encode(encoding), f"text/html; charset={encoding}")
        if get_meta_refresh(page) != (None, None):
            assert may_refresh(page), (encoding, prefix_chars, filler)


def test_prefilter_skips_pages_without_the_word() -> None:
    assert not may_refresh(response(article(1).encode("utf-8")))
    assert may_refresh(response(page_with_tag_after(10, "a").encode("utf-8")))
    assert may_refresh(response(page_with_tag_after(10, "a").upper().encode("utf-8")))
    # an encoding that does not write ASCII as ASCII is always left to Scrapy
    assert may_refresh(response(article(1).encode("utf-16"), "text/html; charset=utf-16"))


def test_crawl_follows_meta_refresh(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "moved.html").write_text(page_with_tag_after(10, "a", REFRESH_TAG.format(target="/a01.html")),
                                     encoding="utf-8")
    (site / "moved-utf16.html").write_bytes(
        page_with_tag_after(10, "a", REFRESH_TAG.format(target="/a02.html")).encode("utf-16"))
    (site / "a01.html").write_text(article(1), encoding="utf-8")
    (site / "a02.html").write_text(article(2), encoding="utf-8")
    (site / "a03.html").write_text(article(3), encoding="utf-8")
    with serve_folder(site) as base:
        urls = tmp_path / "urls.txt"
        urls.write_text(f"{base}/moved.html\n{base}/moved-utf16.html\n{base}/a03.html\n", encoding="utf-8")
        crawl = scrapy_crawl("article", tmp_path / "archive", "-a", f"urls_file={urls}")
    assert crawl.returncode == 0, crawl.log[-3000:]
    rows = read_sidecars(crawl.archive)
    assert sorted(r["final_url"] for r in rows) == [f"{base}/a0{n}.html" for n in (1, 2, 3)]
    archived = {r.headers["WARC-Target-URI"] for r in read_records(crawl.archive) if r.type == "response"}
    assert {f"{base}/moved.html", f"{base}/moved-utf16.html"} <= archived  # the refreshing pages kept too
    result = check_warc(crawl.archive)
    assert result.returncode == 0, result.stdout + result.stderr
