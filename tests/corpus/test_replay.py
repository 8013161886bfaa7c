"""`newsarchive replay`: pywb over the archive, an article opened in headless Chromium through it."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsarchive.replay import listening, replay_url, timestamp14
from tests.corpus.support import ALPHA, NEWSARCHIVE, CorpusArchive
from tests.helpers import CHECK_WARC, PAGES, REPO, read_sidecars

PYWB_BIN = REPO / ".venv-pywb" / "bin"
CHROMIUM = "/usr/bin/chromium"


def chromium_dom(url: str) -> str:
    """The page as Chromium renders it (scripts run), serialised."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        result = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", url],
            check=False, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def replaying(corpus: CorpusArchive) -> Iterator[tuple[str, subprocess.Popen[str], list[str]]]:
    """`newsarchive replay DIR` running; yields (base URL, process, lines printed)."""
    assert (PYWB_BIN / "wayback").exists(), "pywb's venv is missing: run bash tests/run.sh"
    proc = subprocess.Popen([str(NEWSARCHIVE), "replay", str(corpus.path), "--pywb-bin", str(PYWB_BIN)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout or []:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    printed: list[str] = []
    deadline = time.monotonic() + 90
    while not any("Press Ctrl-C" in line for line in printed) and time.monotonic() < deadline:
        try:
            printed.append(lines.get(timeout=1))
        except queue.Empty:
            assert proc.poll() is None, "".join(printed)
    assert printed and printed[0].startswith("Replaying 2 WARC files with pywb: http://127.0.0.1:"), printed
    base = printed[0].split(": ", 1)[1].strip().removesuffix("/newsarchive/")
    try:
        yield base, proc, printed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_article_opens_in_chromium_through_pywb(corpus: CorpusArchive,
                                               replaying: tuple[str, subprocess.Popen[str], list[str]]) -> None:
    base, _, printed = replaying
    assert any(line.startswith(f"For example: {base}/newsarchive/") for line in printed)
    row = max((r for r in read_sidecars(corpus.path) if r["url"] == corpus.url(ALPHA[0])),
              key=lambda r: r["fetched_at"])
    address = replay_url(base, row["final_url"], timestamp14(row["warc_date"]))
    served = urllib.request.urlopen(address, timeout=30).read().decode()
    # pywb rewrote the page: its links point into the archive, and wombat.js is loaded
    assert 'href="/newsarchive/' in served or f'href="{base}/newsarchive/' in served
    assert "wombat.js" in served
    dom = chromium_dom(address)
    assert "<h1>Storm Closes Northern Ports</h1>" in dom
    assert "eleven metres" in dom  # the latest capture: the site corrected the story
    # wombat ran in the page: it reports the archived page's own links, unrewritten
    assert f'<a href="{corpus.alpha}/">' in dom


def test_id_mode_serves_the_page_as_archived(corpus: CorpusArchive,
                                            replaying: tuple[str, subprocess.Popen[str], list[str]]) -> None:
    base, _, _ = replaying
    first, latest = (r for r in read_sidecars(corpus.path) if r["url"] == corpus.url(ALPHA[0]))
    for capture, words in ((first, b"nine metres"), (latest, b"eleven metres")):
        address = replay_url(base, capture["final_url"], timestamp14(capture["warc_date"]), "id_")
        with urllib.request.urlopen(address, timeout=30) as response:
            assert words in response.read()
    row = next(r for r in read_sidecars(corpus.path) if r["url"] == corpus.url(ALPHA[1]))
    address = replay_url(base, row["final_url"], timestamp14(row["warc_date"]), "id_")
    with urllib.request.urlopen(address, timeout=30) as response:
        assert response.read() == (PAGES / "corpus" / "alpha" / ALPHA[1].lstrip("/")).read_bytes()
        assert response.headers["Memento-Datetime"]


def test_ctrl_c_stops_replay_and_pywb(replaying: tuple[str, subprocess.Popen[str], list[str]]) -> None:
    base, proc, _ = replaying
    port = int(base.rsplit(":", 1)[1])
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(30) == 0
    deadline = time.monotonic() + 15
    while listening("127.0.0.1", port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not listening("127.0.0.1", port)


def test_shared_checker_replays_every_page(corpus: CorpusArchive) -> None:
    result = subprocess.run([str(PYWB_BIN / "python"), str(CHECK_WARC), "--replay", str(corpus.path)],
                            check=False, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "7 replayed, 0 failures" in result.stdout.splitlines()[-1]


def test_missing_pywb_is_a_clear_error(corpus: CorpusArchive, tmp_path: Path) -> None:
    result = subprocess.run([str(NEWSARCHIVE), "replay", str(corpus.path), "--pywb-bin", str(tmp_path)],
                            check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "pywb's wb-manager and wayback not found" in result.stderr
