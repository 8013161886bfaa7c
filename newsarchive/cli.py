"""The `newsarchive` command: crawl (or the demo) and the tools that work on an archive folder."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
from scrapy.settings import Settings

from newsarchive import __version__

DEMO_SITE = Path(__file__).parent / "demo" / "site"
DEMO_PORT = 8047  # fixed, so that repeated demo runs see the same URLs and skip what they archived


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """The project's Scrapy settings, wherever the command is run from."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsarchive.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.setdict(overrides or {}, priority="cmdline")
    return settings


def run_spider(spider: str, overrides: dict[str, Any], **spider_args: str) -> dict[str, Any]:
    """Runs one spider in this process, as `scrapy crawl` would; returns its final stats.
    Exits with EXIT_LOCKED when another run holds the archive folder."""
    from scrapy.crawler import CrawlerProcess

    from newsarchive.lockfile import EXIT_LOCKED, ArchiveLocked

    process = CrawlerProcess(project_settings(overrides))
    crawler = process.create_crawler(spider)
    locked: list[BaseException] = []
    running = process.crawl(crawler, **spider_args)
    running.addErrback(lambda failure: locked.append(failure.value) if failure.check(ArchiveLocked) else failure)
    process.start()
    if locked:
        click.echo(str(locked[0]), err=True)
        sys.exit(EXIT_LOCKED)
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
    from newsarchive.commands.crawl import exit_status
    from newsarchive.siteserver import serve_folder

    port = int(os.environ.get("NEWSARCHIVE_DEMO_PORT", DEMO_PORT))
    with ExitStack() as stack:
        try:
            base_url = stack.enter_context(serve_folder(DEMO_SITE, port=port))
        except OSError:  # the port is taken: any free one (URLs then differ from earlier demo runs)
            base_url = stack.enter_context(serve_folder(DEMO_SITE))
        feed = base_url + "/feed.rss"
        click.echo(f"Serving the demo site at {base_url}; archiving the articles its feed lists "
                   f"({feed}) into {directory}/")
        overrides = {"NEWSARCHIVE_DIR": str(directory), "AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "WARNING",
                     "NEWSARCHIVE_CONTACT": base_url + "/"}
        stats = run_spider("feed", overrides, url=feed)
    report(directory, stats)
    if skipped := stats.get("newsarchive/skipped/archived"):
        click.echo(f"{skipped} articles were archived by an earlier run and not fetched again.")
    click.echo("Next: newsarchive crawl URL… (or scrapy crawl article -a url=URL) archives pages of your choice; "
               "scrapy crawl feed|sitemap|site finds a site's articles by itself (README).")
    sys.exit(exit_status(stats))


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
