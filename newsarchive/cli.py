"""The `newsarchive` command: crawl (or the demo) and the tools that work on an archive folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from scrapy.settings import Settings

from newsarchive import __version__

DEMO_SITE = Path(__file__).parent / "demo" / "site"


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """The project's Scrapy settings, wherever the command is run from."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsarchive.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.setdict(overrides or {}, priority="cmdline")
    return settings


def run_spider(spider: str, overrides: dict[str, Any], **spider_args: str) -> dict[str, Any]:
    """Runs one spider in this process, as `scrapy crawl` would; returns its final stats."""
    from scrapy.crawler import CrawlerProcess

    process = CrawlerProcess(project_settings(overrides))
    crawler = process.create_crawler(spider)
    process.crawl(crawler, **spider_args)
    process.start()
    return crawler.stats.get_stats() if crawler.stats else {}


def parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="-s")
        out[name] = value
    return out


def report(directory: Path, stats: dict[str, Any]) -> None:
    click.echo(f"Archived {stats.get('newsarchive/warc/responses', 0)} responses, "
               f"extracted {stats.get('newsarchive/articles', 0)} articles into {directory}/")
    for path in sorted(directory.rglob("*.warc.gz"))[-10:]:
        click.echo(f"  {path}")


@click.group()
@click.version_option(__version__, prog_name="newsarchive")
def main() -> None:
    """Crawl news sites into WARC files with clean article text beside them."""


@main.command()
@click.argument("urls", nargs=-1)
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("archives"),
              show_default=True, help="Archive folder (NEWSARCHIVE_DIR).")
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="A Scrapy setting.")
def crawl(urls: tuple[str, ...], directory: Path, settings: tuple[str, ...]) -> None:
    """Archive the article pages at URLS; with no URL, run the demo."""
    if not urls:
        run_demo(directory)
        return
    from newsarchive.commands.crawl import exit_status

    stats = run_spider("article", {"NEWSARCHIVE_DIR": str(directory), **parse_settings(settings)}, url=",".join(urls))
    report(directory, stats)
    sys.exit(exit_status(stats))


@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("archives"),
              show_default=True, help="Archive folder (NEWSARCHIVE_DIR).")
def demo(directory: Path) -> None:
    """Serve a small bundled news site on 127.0.0.1 and archive it, to see the whole pipeline work."""
    run_demo(directory)


def run_demo(directory: Path) -> None:
    from newsarchive.siteserver import serve_folder

    urls_file = DEMO_SITE / "urls.txt"
    with serve_folder(DEMO_SITE) as base_url:
        urls = [base_url + "/" + line.strip() for line in urls_file.read_text().splitlines() if line.strip()]
        click.echo(f"Serving the demo site at {base_url}; archiving {len(urls)} pages into {directory}/")
        overrides = {"NEWSARCHIVE_DIR": str(directory), "AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "WARNING"}
        stats = run_spider("article", overrides, url=",".join(urls))
    report(directory, stats)
    click.echo("Next: newsarchive crawl URL… (or scrapy crawl article -a url=URL) archives pages of your choice.")
    sys.exit(0 if stats.get("newsarchive/articles") else 1)


if __name__ == "__main__":
    main()
