"""Shared by the corpus tests: the crawled pages, and the `newsarchive` command as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import PAGES, CrawlResult

CORPUS_PAGES = PAGES / "corpus"
NEWSARCHIVE = Path(sys.executable).parent / "newsarchive"
ALPHA = ["/news/storm-closes-northern-ports.html", "/news/council-approves-budget.html",
         "/news/footbridge-closed.html"]
MISSING = "/news/no-such-article.html"  # a 404, counted in the crawl's stats file
STORM_UPDATE = ("waves of up to nine metres", "waves of up to eleven metres")  # the site's correction
BETA = ["/world/ships-stranded-as-storm-shuts-ports.html", "/world/city-budget-passes.html",
        "/world/stadtbibliothek-oeffnungszeiten.html"]


@dataclass
class CorpusArchive:
    path: Path
    alpha: str  # base URLs the pages were crawled from
    beta: str
    crawls: list[CrawlResult]

    def url(self, page: str) -> str:
        return (self.alpha if page in ALPHA else self.beta) + page


def site(base: str) -> str:
    """The `site` an export gives a base URL's pages (host:port)."""
    return base.removeprefix("http://")


def run_cli(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed `newsarchive` command, as a user runs it."""
    return subprocess.run([str(NEWSARCHIVE), *map(str, args)], check=False, capture_output=True,
                          text=True, timeout=timeout)
