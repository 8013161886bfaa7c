"""The `newsarchive` command as a new user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import check_warc, read_sidecars


def newsarchive(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsarchive.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def test_crawl_without_urls_runs_the_demo(tmp_path: Path) -> None:
    result = newsarchive("crawl", cwd=tmp_path)  # from any folder: output goes to ./archives
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Archived 5 responses, extracted 4 articles" in result.stdout
    rows = read_sidecars(tmp_path / "archives")
    assert sorted(row["title"] for row in rows) == [
        "City Library Opens a Night Reading Room", "Harbour Bridge Reopens After Two Years of Repairs",
        "Night Trains Return to the Coast Line", "Orchard Growers Report a Record Apple Harvest"]
    for row in rows:
        assert "Listen Live" not in row["text"] and "Share on Facebook" not in row["text"]
    assert check_warc(tmp_path / "archives").returncode == 0


def test_crawl_urls_and_exit_status(site: str, tmp_path: Path) -> None:
    ok = newsarchive("crawl", f"{site}/article-plain.html", "--dir", str(tmp_path / "a"), cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert [row["title"] for row in read_sidecars(tmp_path / "a")] == ["Tram Line to Reach the New Hospital"]
    failed = newsarchive("crawl", "http://127.0.0.1:9/x", "--dir", str(tmp_path / "b"), "-s", "RETRY_TIMES=0",
                         cwd=tmp_path)
    assert failed.returncode == 1
    assert "Archived 0 responses" in failed.stdout
