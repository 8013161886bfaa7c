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

    urls_file = DEMO_SITE / "urls.txt"
    with serve_folder(DEMO_SITE) as base_url:
        urls = [base_url + "/" + line.strip() for line in urls_file.read_text().splitlines() if line.strip()]
        click.echo(f"Serving the demo site at {base_url}; archiving {len(urls)} pages into {directory}/")
        settings = project_settings({"NEWSARCHIVE_DIR": str(directory), "AUTOTHROTTLE_ENABLED": False,
                                     "LOG_LEVEL": "WARNING"})
        process = CrawlerProcess(settings)
        crawler = process.create_crawler("article")
        process.crawl(crawler, url=",".join(urls))
        process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    archived = stats.get("newsarchive/warc/responses", 0)
    articles = stats.get("newsarchive/articles", 0)
    click.echo(f"Archived {archived} responses, extracted {articles} articles.")
    for path in sorted(directory.rglob("*.warc.gz")):
        click.echo(f"  {path}")
    for path in sorted(directory.rglob("*.jsonl")):
        click.echo(f"  {path}")
    click.echo("Next: scrapy crawl article -a url=https://… archives a page of your choice (README).")
    sys.exit(0 if archived else 1)


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait for a running crawl to release the folder's lock.")
def recover(directory: Path, wait: float) -> None:
    """Finish what a killed crawl left in DIRECTORY (a crawl also does this at start, by itself)."""
    from newsarchive.lockfile import EXIT_LOCKED, ArchiveLocked
    from newsarchive.recovery import recover_folder

    try:
        report = recover_folder(directory, wait)
    except ArchiveLocked as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_LOCKED)
    if not report.files:
        click.echo(f"Nothing to recover in {directory}: no unfinished WARC file.")
    for line in report.lines():
        click.echo(line)


if __name__ == "__main__":
    main()
