"""`newsarchive reextract` on a crawl by the `site` spider: multi-page articles keep their later
pages, and the site config's drop selectors apply again, found by the page's host."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.discovery_server import serve_news_site
from tests.helpers import read_sidecars, scrapy_crawl
from tests.make_site import ARTICLES, CORRECTION, LONG_READ, LONG_READ_2

CONFIG = """
base_url = "{base}"
feeds = ["/atom.xml"]
start_urls = ["/"]
max_depth = 1
[extract]
drop_selectors = ["p.correction"]
"""


def test_reextract_keeps_later_pages_and_site_rules(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    archive = tmp_path / "archive"
    with serve_news_site() as base:
        (sites / "herald.toml").write_text(CONFIG.format(base=base), encoding="utf-8")
        crawl = scrapy_crawl("site", archive, "-a", "name=herald", settings={"NEWSARCHIVE_SITES_DIR": str(sites)})
    assert crawl.returncode == 0, crawl.log[-3000:]
    crawled = {row["url"].removeprefix(base): row for row in read_sidecars(archive)}
    first_page_url = ARTICLES["A"][0]
    assert [part["url"].removeprefix(base) for part in crawled[LONG_READ]["more_pages"]] == [LONG_READ_2]

    def reextract(*settings: str) -> dict[str, dict]:
        done = subprocess.run([sys.executable, "-m", "newsarchive.cli", "reextract", str(archive), *settings],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return {row["url"].removeprefix(base): row for row in read_sidecars(archive)}

    rebuilt = reextract("-s", f"NEWSARCHIVE_SITES_DIR={sites}")
    assert rebuilt[LONG_READ]["text"] == crawled[LONG_READ]["text"]  # both pages, as the crawl joined them
    assert CORRECTION not in rebuilt[first_page_url]["text"]
    assert rebuilt[first_page_url]["text"] == crawled[first_page_url]["text"]
    # Without the site config, the correction box is article text again: the rules really came from it.
    assert CORRECTION in reextract()[first_page_url]["text"]
