"""Scrapy's JOBDIR with these spiders: Ctrl-C pauses a long crawl, the same command resumes it."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from tests.helpers import REPO, check_warc, read_sidecars
from tests.recrawl_site import article_html, crawl_command, paragraphs, start_crawl, versioned_site

TOPICS = ["harbour", "library", "orchard", "railway", "museum"]


def test_ctrl_c_then_resume(tmp_path: Path) -> None:
    site, archive, jobdir = tmp_path / "site", tmp_path / "archive", tmp_path / "job"
    (site / "plain").mkdir(parents=True)
    for topic in TOPICS:
        (site / "plain" / f"{topic}.html").write_text(article_html(topic.title() + " news", paragraphs(topic)))
    (site / "delay.txt").write_text("0.5")
    with versioned_site(site) as base:
        urls = ",".join(f"{base}/plain/{topic}.html" for topic in TOPICS)
        command = crawl_command("article", archive, "-a", f"url={urls}",
                                settings={"JOBDIR": str(jobdir), "CONCURRENT_REQUESTS": "1"})
        log = tmp_path / "first.log"
        first = start_crawl(command, log)
        try:
            deadline = time.monotonic() + 60
            requests = site / "requests.log"
            while time.monotonic() < deadline:  # two articles asked for: Ctrl-C
                if requests.exists() and requests.read_text().count("/plain/") >= 2:
                    break
                time.sleep(0.05)
            first.send_signal(signal.SIGINT)
            assert first.wait(timeout=60) == 0
        finally:
            if first.poll() is None:
                first.kill()
        text = log.read_text()
        assert "Received SIGINT, shutting down gracefully" in text and "(shutdown)" in text
        done_first = len(read_sidecars(archive))
        assert 1 <= done_first < len(TOPICS)
        assert (jobdir / "requests.queue").is_dir()

        second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False, timeout=120)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Resuming crawl" in second.stderr
    urls_done = Counter(row["url"] for row in read_sidecars(archive))
    assert urls_done == Counter({f"{base}/plain/{topic}.html": 1 for topic in TOPICS})
    assert not list(archive.rglob("*.open"))
    result = check_warc(archive)
    assert result.returncode == 0, result.stdout + result.stderr
