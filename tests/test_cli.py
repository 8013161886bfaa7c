"""The `newsarchive` command as a new user runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.helpers import check_warc, read_sidecars


def newsarchive(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsarchive.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False, env={**os.environ, **(env or {})})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_run_again_skips_what_it_archived(tmp_path: Path) -> None:
    env = {"NEWSARCHIVE_DEMO_PORT": str(free_port())}
    first = newsarchive("demo", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    second = newsarchive("demo", cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "extracted 0 articles" in second.stdout
    assert "4 articles were archived by an earlier run and not fetched again." in second.stdout
    assert len(read_sidecars(tmp_path / "archives")) == 4
    assert check_warc(tmp_path / "archives").returncode == 0


def test_crawl_without_urls_runs_the_demo(tmp_path: Path) -> None:
    result = newsarchive("crawl", cwd=tmp_path)  # from any folder: output goes to ./archives
    assert result.returncode == 0, result.stdout + result.stderr
    # robots.txt, the feed and the four articles it lists: the demo discovers its articles
    assert "Archived 6 responses, extracted 4 articles" in result.stdout
    rows = read_sidecars(tmp_path / "archives")
    assert {row["source"] for row in rows} == {"feed"}
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
