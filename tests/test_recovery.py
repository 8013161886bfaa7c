"""kill -9 in the middle of writing, then the next run (or `newsarchive recover`) finishes the job; the lock."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.testing import PAUSE_MARK
from tests.helpers import REPO, check_warc, read_records, read_sidecars
from tests.recrawl_site import (
    article_html,
    crawl_command,
    kill_group,
    paragraphs,
    served,
    start_crawl,
    versioned_site,
    wait_for_log,
)

TOPICS = ["harbour", "library", "orchard", "railway", "museum"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("site")
    (folder / "plain").mkdir()
    for topic in TOPICS:
        (folder / "plain" / f"{topic}.html").write_text(article_html(topic.title() + " news", paragraphs(topic)))
    with versioned_site(folder) as base:
        yield base, folder


def article_command(base: str, archive: Path, **settings: str) -> list[str]:
    urls = ",".join(f"{base}/plain/{topic}.html" for topic in TOPICS)
    return crawl_command("article", archive, "-a", f"url={urls}",
                         settings={"CONCURRENT_REQUESTS": "2", **settings})


def killed_run(base: str, archive: Path, pause: str) -> int:
    """A crawl frozen by the testing hook at `pause`, then killed with SIGKILL; returns its pid."""
    log = archive.parent / (archive.name + "-killed.log")
    process = start_crawl(article_command(base, archive, NEWSARCHIVE_TEST_PAUSE_AFTER=pause), log)
    wait_for_log(log, PAUSE_MARK, process)
    kill_group(process)
    return process.pid


def assert_whole(archive: Path, base: str) -> None:
    assert not list(archive.rglob("*.open"))
    result = check_warc(archive)
    assert result.returncode == 0, result.stdout + result.stderr
    urls = Counter(row["url"] for row in read_sidecars(archive))
    assert urls == Counter({f"{base}/plain/{topic}.html": 1 for topic in TOPICS})


@pytest.mark.parametrize("pause", ["torn:3", "sidecar:2"])
def test_next_run_recovers_a_killed_one(site: tuple[str, Path], tmp_path: Path, pause: str) -> None:
    base, folder = site
    archive = tmp_path / "archive"
    pid = killed_run(base, archive, pause)
    assert list(archive.rglob("*.warc.gz.open"))
    before = record_ids_left(archive)
    served(folder)

    proc = subprocess.run(article_command(base, archive), cwd=REPO, capture_output=True, text=True, check=False,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"did not finish (pid {pid} on" in proc.stderr
    assert "Recovery: closed" in proc.stderr
    if pause.startswith("torn"):
        assert " 0 bytes of an unfinished record cut" not in proc.stderr
    assert_whole(archive, base)
    # What the dead run completed is not fetched again; what it did not complete is.
    done_before = {row["url"] for row in read_sidecars(archive)
                   if row["warc_record_id"] in before}
    fetched_again = {path for path, *_ in served(folder) if path != "/robots.txt"}
    assert fetched_again == {f"/plain/{t}.html" for t in TOPICS} - {u.removeprefix(base) for u in done_before}


def record_ids_left(archive: Path) -> set[str]:
    """Record ids in the killed run's open files (the torn end read as far as it goes)."""
    ids = set()
    for path in archive.rglob("*.warc.gz.open"):
        with open(path, "rb") as fh:
            try:
                for record in ArchiveIterator(fh):
                    ids.add(record.rec_headers.get_header("WARC-Record-ID"))
                    record.raw_stream.read()
            except Exception:
                pass
    return ids


def test_recover_command_reports_and_leaves_a_valid_archive(site: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = site
    archive = tmp_path / "archive"
    killed_run(base, archive, "torn:5")
    proc = subprocess.run([sys.executable, "-m", "newsarchive.cli", "recover", str(archive)], cwd=REPO,
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "closed newsarchive-" in proc.stdout and "bytes of an unfinished record cut" in proc.stdout
    assert not list(archive.rglob("*.open"))
    result = check_warc(archive)
    assert result.returncode == 0, result.stdout + result.stderr
    again = subprocess.run([sys.executable, "-m", "newsarchive.cli", "recover", str(archive)], cwd=REPO,
                           capture_output=True, text=True, check=False, timeout=60)
    assert again.returncode == 0 and "Nothing to recover" in again.stdout


def test_one_run_at_a_time(site: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = site
    archive = tmp_path / "archive"
    first_log = tmp_path / "first.log"
    first = start_crawl(article_command(base, archive, NEWSARCHIVE_TEST_PAUSE_AFTER="writes:3"), first_log)
    try:
        wait_for_log(first_log, PAUSE_MARK, first)
        files = set(archive.rglob("*"))
        started = time.monotonic()
        second = subprocess.run(article_command(base, archive), cwd=REPO, capture_output=True, text=True, check=False,
                                timeout=60)
        assert second.returncode == 3
        assert f"is in use by another newsarchive run (pid {first.pid} on" in second.stderr
        assert "NEWSARCHIVE_LOCK_WAIT" in second.stderr and "Traceback" not in second.stderr
        assert time.monotonic() - started < 20
        assert set(archive.rglob("*")) == files  # the second run touched nothing

        waiting_log = tmp_path / "waiting.log"
        waiting = start_crawl(article_command(base, archive, NEWSARCHIVE_LOCK_WAIT="90"), waiting_log)
        wait_for_log(waiting_log, "waiting up to 90s", waiting)
        time.sleep(1)
        assert waiting.poll() is None  # still waiting while the first run holds the lock
        kill_group(first)
        assert waiting.wait(timeout=90) == 0
    finally:
        if first.poll() is None:
            kill_group(first)
    log = waiting_log.read_text()
    assert f"did not finish (pid {first.pid} on" in log and "Recovery: closed" in log
    assert_whole(archive, base)
    assert len({r.file for r in read_records(archive)}) == 2  # the dead run's file, recovered, and ours
