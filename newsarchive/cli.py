"""The `newsarchive` command: crawl (or the demo) and the tools that work on an archive folder."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
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
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="A setting (NEWSARCHIVE_EXTRACT_*, NEWSARCHIVE_MIN_WORDS, NEWSARCHIVE_BOILERPLATE_*).")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Extraction processes (0: one per core).")
@click.option("--wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait for a running crawl to release the folder's lock.")
def reextract(directory: Path, settings: tuple[str, ...], workers: int, wait: float) -> None:
    """Rebuild the sidecars' text and metadata from the WARCs in DIRECTORY, offline."""
    from newsarchive.boilerplate import BoilerplateSettings
    from newsarchive.discovery_config import DiscoveryConfig
    from newsarchive.extraction import ExtractionOptions
    from newsarchive.lockfile import EXIT_LOCKED, ArchiveLocked
    from newsarchive.reextract import reextract_folder

    merged = project_settings(parse_settings(settings))
    try:
        options = ExtractionOptions.from_settings(merged)
        learning = BoilerplateSettings.from_settings(merged)
        sites_dir = DiscoveryConfig.from_settings(merged).sites_dir  # site configs' drop selectors
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="-s") from None
    try:
        recovered, result = reextract_folder(directory, options, min_docs=learning.min_docs, learn=learning.enabled,
                                             workers=workers or os.cpu_count() or 1, wait=wait,
                                             sites_dir=sites_dir)
    except ArchiveLocked as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_LOCKED)
    for line in recovered:
        click.echo(f"Recovered first: {line}")
    click.echo(f"Re-extracted {result.rows} rows in {result.sidecars} sidecars: {result.changed} changed, "
               f"{result.dropped} dropped (no article text), {result.unreadable} unreadable, "
               f"{result.blocks_removed} recurring blocks removed")
    for error in result.errors[:20]:
        click.echo(f"  {error}", err=True)
    sys.exit(1 if result.unreadable else 0)


@main.command("eval-extract")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help='Write our predictions as {"<id>": {"articleBody": "..."}}.')
def eval_extract(dataset: Path, output: Path | None) -> None:
    """Score the extractor on DATASET (html/<id>.html.gz + ground-truth.json) next to plain trafilatura."""
    from newsarchive.evaluation import format_report, run_eval

    try:
        report_ = run_eval(dataset, output)
    except (OSError, ValueError, KeyError) as exc:
        raise click.ClickException(f"cannot evaluate {dataset}: {exc}") from None
    click.echo(format_report(report_))
    if output is not None:
        click.echo(f"Predictions written to {output}")


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


@contextmanager
def byte_progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr over `total` bytes; yields the callback the library calls."""
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total or None)
        yield lambda done: progress.advance(task, done)


def fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


ARCHIVE = click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))


@main.command()
@ARCHIVE
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "parquet", "csv"]), default=None,
              help="Output format [default: from the output file's suffix, else jsonl].")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Published on or after this day (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Published on or before this day (YYYY-MM-DD).")
@click.option("--site", "sites", multiple=True, help="Only this site (host, with its subdomains); repeatable.")
@click.option("--lang", "languages", multiple=True, help="Only this language (ISO 639-1); repeatable.")
@click.option("--min-words", type=click.IntRange(min=0), default=0, show_default=True,
              help="Only articles with at least this many words.")
@click.option("--dedup", is_flag=True, help="Keep one of each group of exact or near-duplicate articles.")
@click.option("--dedup-threshold", type=click.FloatRange(0.1, 0.95), default=0.7, show_default=True,
              help="Estimated Jaccard similarity of word 5-grams above which two articles are duplicates.")
@click.option("--all-captures", is_flag=True, help="Every capture of a URL, not only the latest.")
def export(directory: Path, out: Path, fmt: str | None, since: datetime | None, until: datetime | None,
           sites: tuple[str, ...], languages: tuple[str, ...], min_words: int, dedup: bool,
           dedup_threshold: float, all_captures: bool) -> None:
    """Write the archive's articles as one JSON Lines, Parquet or CSV file (a research corpus)."""
    from newsarchive.corpus_rows import RowFilter, sidecar_bytes
    from newsarchive.export import ExportOptions, export_archive, passes_needed

    fmt = fmt or {".parquet": "parquet", ".csv": "csv"}.get(out.suffix.lower(), "jsonl")
    filters = RowFilter(since.date() if since else None, until.date() if until else None,
                        tuple(s.lower() for s in sites),
                        tuple(lang.lower() for part in languages for lang in part.split(",") if lang), min_words)
    options = ExportOptions(fmt, filters, dedup, dedup_threshold, all_captures)
    try:
        with byte_progress("Exporting", sidecar_bytes(directory) * passes_needed(options)) as advance:
            result = export_archive(directory, out, options, advance)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    extra = f", {result.duplicates} duplicates folded in" if dedup else ""
    extra += f", {result.superseded} older captures left out" if result.superseded else ""
    click.echo(f"Wrote {result.rows} articles to {out} ({fmt}{extra}).")


@main.command()
@ARCHIVE
@click.option("--max-problems", type=int, default=50, show_default=True, help="Problems listed at most.")
def verify(directory: Path, max_problems: int) -> None:
    """Check that every WARC and sidecar is whole and consistent. Reads only; exit 1 on any problem."""
    from newsarchive.verify import verify_archive, warc_files

    total = sum(p.stat().st_size for p in warc_files(directory))
    try:
        with byte_progress("Verifying", total) as advance:
            report = verify_archive(directory, advance)
    except OSError as exc:
        fail(str(exc))
    click.echo(f"{report.warcs} WARC files, {report.records} records in {report.members} gzip members, "
               f"{report.sidecars} sidecars with {report.sidecar_rows} rows: "
               f"{len(report.problems)} problems.")
    for path, first in report.damaged_files().items():
        click.echo(f"DAMAGED {path}: first bad {first.where}: {first.message}")
    for problem in report.problems[:max_problems]:
        click.echo(f"  {problem}")
    if len(report.problems) > max_problems:
        click.echo(f"  … and {len(report.problems) - max_problems} more")
    sys.exit(0 if report.ok else 1)


@main.command()
@ARCHIVE
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Index file [default: DIRECTORY/index.cdxj].")
def index(directory: Path, out: Path | None) -> None:
    """Write one sorted CDXJ index of the archive's WARCs (cdxj-indexer)."""
    from newsarchive.indexing import index_archive

    try:
        result = index_archive(directory, out)
    except FileNotFoundError as exc:
        fail(str(exc))
    click.echo(f"Indexed {result.warcs} WARC files: {result.lines} lines in {result.path}.")


@main.command()
@ARCHIVE
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="WACZ file to write.")
def wacz(directory: Path, out: Path) -> None:
    """Package the archive as a WACZ file, with its articles as pages (ReplayWeb.page, pywb)."""
    import tempfile

    from newsarchive.corpus_rows import sidecar_bytes
    from newsarchive.indexing import create_wacz

    try:
        with tempfile.TemporaryDirectory() as tmp, byte_progress("Packing", sidecar_bytes(directory)) as advance:
            result = create_wacz(directory, out, Path(tmp), advance)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        fail(str(exc))
    click.echo(f"Wrote {out}: {result.warcs} WARC files, {result.pages} pages.")


@main.command()
@ARCHIVE
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port [default: a free one].")
@click.option("--collection-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep pywb's collection here [default: a temporary folder].")
@click.option("--pywb-bin", type=click.Path(exists=True, file_okay=False, path_type=Path),
              envvar="NEWSARCHIVE_PYWB_BIN", default=None,
              help="Folder with pywb's wb-manager and wayback [env NEWSARCHIVE_PYWB_BIN; default: beside "
                   "this Python, ./.venv-pywb/bin, PATH].")
@click.option("--framed", is_flag=True, help="pywb's framed replay (page in an iframe under a top frame).")
def replay(directory: Path, host: str, port: int, collection_dir: Path | None, pywb_bin: Path | None,
           framed: bool) -> None:
    """Browse the archive through pywb on 127.0.0.1 until Ctrl-C."""
    from newsarchive import replay as replaying
    from newsarchive.corpus_rows import iter_rows

    def ready(base: str, warcs: int) -> None:
        click.echo(f"Replaying {warcs} WARC files with pywb: {base}/{replaying.COLLECTION}/")
        for row in iter_rows(directory):
            stamp = replaying.timestamp14(row["warc_date"])
            click.echo(f"For example: {replaying.replay_url(base, row['final_url'], stamp)}")
            break
        click.echo("Press Ctrl-C to stop.", nl=True)
        sys.stdout.flush()

    try:
        status = replaying.replay(directory, host, port, collection_dir, replaying.find_pywb(pywb_bin), ready, framed)
    except (FileNotFoundError, RuntimeError) as exc:
        fail(str(exc))
    sys.exit(0 if status in (0, -15) else 1)


@main.command()
@ARCHIVE
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a self-contained HTML report with charts here.")
def stats(directory: Path, html_out: Path | None) -> None:
    """Articles per site, day and language, words, and failures."""
    from newsarchive.corpus_rows import sidecar_bytes
    from newsarchive.report import gather_stats, tables
    from newsarchive.report_html import write_html

    try:
        with byte_progress("Counting", sidecar_bytes(directory) * 2) as advance:
            result = gather_stats(directory, advance)
    except OSError as exc:
        fail(str(exc))
    console = Console()
    for table in tables(result):
        console.print(table)
    if not result.stats_files:
        click.echo("Failures: no crawl stats files (*.stats.json) in this archive.")
    if html_out is not None:
        write_html(result, str(directory), html_out)
        click.echo(f"Wrote {html_out}.")


if __name__ == "__main__":
    main()
