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


@main.group()
def workers() -> None:
    """Workers of shared crawls (NEWSARCHIVE_REDIS_URL): see README, "Running on several machines"."""


@workers.command("status")
@click.option("--redis-url", envvar="NEWSARCHIVE_REDIS_URL", required=True,
              help="The crawl's Redis (redis://[:PASSWORD@]HOST:PORT/DB or rediss://…); "
                   "default: $NEWSARCHIVE_REDIS_URL.")
@click.option("--crawl", "crawl_ids", multiple=True, help="Only this crawl id (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def workers_status_command(redis_url: str, crawl_ids: tuple[str, ...], as_json: bool) -> None:
    """Per crawl: queued, leased, done, failed; per worker: requests done and pages/s."""
    import redis

    from newsarchive.workers_status import workers_status

    try:
        click.echo(workers_status(redis_url, list(crawl_ids) or None, as_json=as_json))
    except redis.exceptions.RedisError as exc:
        click.echo(f"Cannot read from Redis: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
