"""A small two-site news archive, crawled once per test session for the corpus tools (issue 6).

Site "alpha" and site "beta" are two loopback servers (two ports on 127.0.0.1, so two sites). Beta
carries a near-duplicate of alpha's wire story (another headline, one sentence changed) and an exact
copy of alpha's council story under another headline; one German article; one short article. A
second crawl captures alpha's storm story again, so that one URL has two captures.
"""

from __future__ import annotations

import pytest

from newsarchive.siteserver import serve_folder
from tests.corpus.support import ALPHA, BETA, CORPUS_PAGES, CorpusArchive
from tests.helpers import check_warc, read_sidecars, scrapy_crawl


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusArchive:
    archive = tmp_path_factory.mktemp("corpus-archive")
    with serve_folder(CORPUS_PAGES / "alpha") as alpha, serve_folder(CORPUS_PAGES / "beta") as beta:
        urls = [alpha + p for p in ALPHA] + [beta + p for p in BETA]
        first = scrapy_crawl("article", archive, "-a", "url=" + ",".join(urls))
        again = scrapy_crawl("article", archive, "-a", "url=" + alpha + ALPHA[0])
    for crawl in (first, again):
        assert crawl.returncode == 0, crawl.log[-3000:]
    assert len(read_sidecars(archive)) == 7
    checked = check_warc(archive)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return CorpusArchive(archive, alpha, beta, [first, again])
