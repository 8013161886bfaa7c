"""The `newsarchive` command: the demo and the tools that work on an archive folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from newsarchive import __version__

DEMO_SITE = Path(__file__).parent / "demo" / "site"


def project_settings(overrides: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    """The project's Scrapy settings, wherever the command is run from."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsarchive.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.setdict(overrides or {}, priority="cmdline")
    return settings


@click.group()
@click.version_option(__version__, prog_name="newsarchive")
def main() -> None:
    """Crawl news sites into WARC files with clean article text beside them."""


@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("archives"),
              show_default=True, help="Archive folder (NEWSARCHIVE_DIR).")
def demo(directory: Path) -> None:
    """Serve a small bundled news site on 127.0.0.1 and archive it, to see the whole pipeline work."""
    from scrapy.crawler import CrawlerProcess

    from newsarchive.siteserver import serve_folder

    with serve_folder(DEMO_SITE) as base_url:
        feed = base_url + "/feed.rss"
        click.echo(f"Serving the demo site at {base_url}; archiving the articles its feed lists "
                   f"({feed}) into {directory}/")
        settings = project_settings({"NEWSARCHIVE_DIR": str(directory), "AUTOTHROTTLE_ENABLED": False,
                                     "LOG_LEVEL": "ERROR", "NEWSARCHIVE_CONTACT": base_url + "/"})
        process = CrawlerProcess(settings)
        crawler = process.create_crawler("feed")
        process.crawl(crawler, url=feed)
        process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    archived = stats.get("newsarchive/warc/responses", 0)
    articles = stats.get("newsarchive/articles", 0)
    click.echo(f"Archived {archived} responses, extracted {articles} articles.")
    for path in sorted(directory.rglob("*.warc.gz")):
        click.echo(f"  {path}")
    for path in sorted(directory.rglob("*.jsonl")):
        click.echo(f"  {path}")
    click.echo("Next: scrapy crawl feed -a url=https://…/feed.rss archives the articles of a feed of your "
               "choice; see the README for the sitemap and site spiders.")
    sys.exit(0 if archived else 1)


if __name__ == "__main__":
    main()
