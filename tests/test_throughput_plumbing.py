"""The plumbing that keeps a crawl fast and flat: extraction off the reactor, faults isolated, queues
bounded. Real `scrapy crawl article` runs against a loopback site of generated article pages."""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings

from newsarchive.config import ArchiveConfig, SettingError
from newsarchive.siteserver import serve_folder
from tests.helpers import REPO, CrawlResult, check_warc, read_records, read_sidecars, scrapy_crawl

TOWNS = ["Arden", "Brill", "Corve", "Dunmore", "Elstow", "Farleigh", "Gorran", "Hexby", "Ilam", "Jarrow"]


def article(n: int, extra: str = "") -> str:
    town = TOWNS[n % len(TOWNS)]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Story {n}: {town} opens a new library</title></head>
<body><nav><a href="/">Home</a></nav>
<article><h1>Story {n}: {town} opens a new library</h1>
<p>Residents of {town} queued from early morning on Saturday to see the new library, story number {n},
which replaces a building that had stood empty since the old one closed for repairs.</p>
<p>The council said the reading rooms will stay open late on weekdays, and that the archive of local
newspapers will be digitised over the next two years with help from volunteers. {extra}</p>
</article><footer>Footer</footer></body></html>"""


@pytest.fixture(scope="module")
def pages_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("pages")
    for n in range(30):
        (folder / f"a{n:02d}.html").write_text(article(n), encoding="utf-8")
    (folder / "hang.html").write_text(article(98, "FAULT-HANG"), encoding="utf-8")
    (folder / "crash.html").write_text(article(99, "FAULT-CRASH"), encoding="utf-8")
    for n in range(40):
        (folder / f"slow{n:02d}.html").write_text(article(100 + n, "FAULT-SLOW"), encoding="utf-8")
    with serve_folder(folder) as base:
        yield base, folder


@pytest.fixture(scope="module")
def faulty_crawl(pages_site: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    base, _ = pages_site
    tmp = tmp_path_factory.mktemp("faulty")
    urls = [f"{base}/a{n:02d}.html" for n in range(15)] + [f"{base}/hang.html", f"{base}/crash.html"]
    urls += [f"{base}/a{n:02d}.html" for n in range(15, 30)]
    (tmp / "urls.txt").write_text("# pages\n" + "\n".join(urls) + "\n", encoding="utf-8")
    return scrapy_crawl("article", tmp / "archive", "-a", f"urls_file={tmp / 'urls.txt'}", settings={
        "NEWSARCHIVE_TEST_EXTRACT_FAULTS": "hang:FAULT-HANG,crash:FAULT-CRASH",
        "NEWSARCHIVE_EXTRACT_TIMEOUT": "4",
    })


def test_extraction_runs_in_other_processes(faulty_crawl: CrawlResult) -> None:
    assert faulty_crawl.returncode == 0, faulty_crawl.log[-3000:]
    match = re.search(r"Extraction ran in worker processes ([\d, ]+) \(crawl process (\d+)\)", faulty_crawl.log)
    assert match, faulty_crawl.log[-3000:]
    workers = {int(p) for p in match.group(1).split(",")}
    assert workers and int(match.group(2)) not in workers
    stats = faulty_crawl.stats()
    assert stats["newsarchive/extract/worker_processes"] == len(workers)
    # where the CPU went, for a user sizing a machine: the crawl process's and the workers' own
    assert stats["newsarchive/extract/worker_cpu_seconds"] > 0
    assert stats["newsarchive/cpu/crawl_process_seconds"] > 0
    # and how long the workers waited for pages (at least for the first download)
    assert 0 < stats["newsarchive/extract/worker_idle_seconds"] < len(workers) * stats["elapsed_time_seconds"]
    # the crawl process's garbage collector, tuned for the run (the extension is on by default) and counted
    assert {"newsarchive/gc/collections", "newsarchive/gc/seconds"} <= stats.keys()


def test_hanging_and_crashing_pages_fail_alone(faulty_crawl: CrawlResult, pages_site: tuple[str, Path]) -> None:
    base, _ = pages_site
    stats = faulty_crawl.stats()
    failures = [line for line in faulty_crawl.log.splitlines() if "Extraction" in line or "extraction" in line]
    assert stats["newsarchive/extract_failed"] == 2, "\n".join(failures)
    assert stats["newsarchive/articles"] == 30
    assert f"Extraction failed for {base}/hang.html: timed out after 4s" in faulty_crawl.log
    assert f"Extraction failed for {base}/crash.html: its worker process died" in faulty_crawl.log
    assert "Restarting an extraction worker" in faulty_crawl.log
    rows = read_sidecars(faulty_crawl.archive)
    assert sorted(r["url"] for r in rows) == sorted(f"{base}/a{n:02d}.html" for n in range(30))
    assert all("opens a new library" in r["title"] for r in rows)
    archived = {r.headers["WARC-Target-URI"] for r in read_records(faulty_crawl.archive) if r.type == "response"}
    assert {f"{base}/hang.html", f"{base}/crash.html"} <= archived  # failed extraction, page kept
    result = check_warc(faulty_crawl.archive)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def slow_crawl(pages_site: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    base, _ = pages_site
    tmp = tmp_path_factory.mktemp("slow")
    (tmp / "urls.txt").write_text("".join(f"{base}/slow{n:02d}.html\n" for n in range(40)), encoding="utf-8")
    return scrapy_crawl("article", tmp / "archive", "-a", f"urls_file={tmp / 'urls.txt'}", settings={
        "NEWSARCHIVE_TEST_EXTRACT_FAULTS": "slow:FAULT-SLOW",  # 0.3 s a page: slower than the downloader
        "NEWSARCHIVE_EXTRACT_WORKERS": "1",
        "NEWSARCHIVE_EXTRACT_QUEUE": "2",
        "CONCURRENT_REQUESTS": "8",
        "NEWSARCHIVE_START_BUFFER": "20",  # counted again after every 2 (a tenth)
    })


def test_queue_to_slow_workers_stays_bounded(slow_crawl: CrawlResult) -> None:
    assert slow_crawl.returncode == 0, slow_crawl.log[-3000:]
    stats = slow_crawl.stats()
    assert stats["newsarchive/articles"] == 40
    assert stats["newsarchive/extract/peak_in_flight"] == 2
    assert stats["newsarchive/extract/backpressure_pauses"] >= 1
    # Waiting pages: the pipeline's hold limit (2 x queue) plus what was already downloading or between
    # downloader and pipeline when the engine paused; far from all 40 pages at once.
    assert stats["newsarchive/extract/peak_waiting"] <= 2 * 2 + 2 * 8
    # Start requests are read from the file only as the scheduler makes room.
    assert stats["newsarchive/start/peak_pending"] <= 20
    result = check_warc(slow_crawl.archive)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("name", "value"), [
    ("NEWSARCHIVE_TEST_EXTRACT_FAULTS", "explode:X"),
    ("NEWSARCHIVE_TEST_EXTRACT_FAULTS", "hang:"),
    ("NEWSARCHIVE_GZIP_LEVEL", "fast"),
    ("NEWSARCHIVE_GZIP_LEVEL", "0"),
])
def test_bad_settings_name_themselves(name: str, value: str) -> None:
    with pytest.raises(SettingError, match=name):
        ArchiveConfig.from_settings(Settings({name: value}))


def test_gzip_level_default_is_the_measured_one() -> None:
    assert ArchiveConfig.from_settings(Settings()).gzip_level == 4


def _live_descendants(pid: int) -> set[int]:
    """Processes below pid (zombies, already dead, left out), from /proc."""
    children: dict[int, list[int]] = {}
    states: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child = int(stat.parent.name)
        states[child] = fields[0]
        children.setdefault(int(fields[1]), []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            if states.get(child) != "Z":
                found.add(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_workers_of_a_crawl_killed_with_sigkill_exit(pages_site: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = pages_site
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{base}/slow{n:02d}.html\n" for n in range(40)), encoding="utf-8")
    command = [sys.executable, "-m", "scrapy", "crawl", "article", "-a", f"urls_file={urls}",
               "-s", f"NEWSARCHIVE_DIR={tmp_path / 'archive'}", "-s", "AUTOTHROTTLE_ENABLED=False",
               "-s", "NEWSARCHIVE_TEST_EXTRACT_FAULTS=slow:FAULT-SLOW", "-s", "NEWSARCHIVE_EXTRACT_WORKERS=2"]
    crawl = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_live_descendants(crawl.pid)) < 3:  # fork server + 2 workers
            time.sleep(0.2)
        spawned = _live_descendants(crawl.pid)
        assert len(spawned) >= 3, spawned
    finally:
        crawl.kill()
        crawl.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(map(_alive, spawned)):
        time.sleep(0.2)
    assert not [pid for pid in spawned if _alive(pid)], "extraction processes outlived the killed crawl"


def test_collector_tuned_while_the_spider_runs_and_restored_after() -> None:
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from newsarchive.gctuning import CollectorTuning

    before = gc.get_threshold()
    crawler = get_crawler(Spider, {"NEWSARCHIVE_GC_THRESHOLD": 20_000})
    tuning = CollectorTuning.from_crawler(crawler)
    spider = Spider("probe")
    tuning.spider_opened(spider)
    try:
        assert gc.get_threshold() == (20_000, *before[1:])
        assert gc.get_freeze_count() > 1000  # start-up's objects, out of every collection
        gc.collect(0)
    finally:
        tuning.spider_closed(spider)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert crawler.stats is not None
    assert crawler.stats.get_value("newsarchive/gc/collections") >= 1
    assert crawler.stats.get_value("newsarchive/gc/seconds") >= 0


@pytest.mark.parametrize(("value", "outcome"), [("0", NotConfigured), ("-1", SettingError), ("many", SettingError)])
def test_collector_tuning_setting(value: str, outcome: type[Exception]) -> None:
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from newsarchive.gctuning import CollectorTuning

    with pytest.raises(outcome, match=None if outcome is NotConfigured else "NEWSARCHIVE_GC_THRESHOLD"):
        CollectorTuning.from_crawler(get_crawler(Spider, {"NEWSARCHIVE_GC_THRESHOLD": value}))
