"""A small two-site news archive, crawled once per test session for the corpus tools (issue 6).

Site "alpha" and site "beta" are two loopback servers (two ports on 127.0.0.1, so two sites). Beta
carries a near-duplicate of alpha's wire story (another headline, one sentence changed) and an exact
copy of alpha's council story under another headline; one German article; one short article. A
second crawl (`recrawl=0`) captures alpha's storm story again after the site updated it, so that one URL
has two captures (the second `supersedes` the first). One URL of the first crawl is a 404.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from newsarchive.siteserver import serve_folder
from tests.corpus.support import ALPHA, BETA, CORPUS_PAGES, MISSING, STORM_UPDATE, CorpusArchive
from tests.helpers import check_warc, read_sidecars, scrapy_crawl


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusArchive:
    archive = tmp_path_factory.mktemp("corpus-archive")
    alpha_pages = Path(shutil.copytree(CORPUS_PAGES / "alpha", tmp_path_factory.mktemp("alpha") / "site"))
    with serve_folder(alpha_pages) as alpha, serve_folder(CORPUS_PAGES / "beta") as beta:
        urls = [alpha + p for p in ALPHA] + [beta + p for p in BETA] + [alpha + MISSING]
        first = scrapy_crawl("article", archive, "-a", "url=" + ",".join(urls))
        storm = alpha_pages / ALPHA[0].lstrip("/")
        storm.write_text(storm.read_text(encoding="utf-8").replace(*STORM_UPDATE), encoding="utf-8")
        os.utime(storm, (time.time() + 5, time.time() + 5))  # Last-Modified moves on even within a second
        again = scrapy_crawl("article", archive, "-a", "url=" + alpha + ALPHA[0], "-a", "recrawl=0")
    for crawl in (first, again):
        assert crawl.returncode == 0, crawl.log[-3000:]
    rows = read_sidecars(archive)
    assert len(rows) == 7, again.log[-3000:]
    assert rows[-1]["supersedes"]
    checked = check_warc(archive)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return CorpusArchive(archive, alpha, beta, [first, again])
