"""A loopback news site whose pages a test can change between runs, with validators and 304s."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any

from newsarchive.siteserver import QuietHandler, serve_folder
from tests.helpers import REPO

SPIDER_MODULES = "newsarchive.spiders,tests.probe_spiders"


def article_html(title: str, paragraphs: list[str]) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{body}</article>"
            f"<footer>Copyright The Loopback Gazette</footer></body></html>\n")


def paragraphs(topic: str, edition: int = 1) -> list[str]:
    return [
        f"The {topic} story begins on a quiet morning when the council met to discuss the plans for the town.",
        f"Residents said the {topic} proposal would change how the harbour district works for many years.",
        f"Edition {edition}: officials promised to publish the full report on the {topic} before the winter.",
    ]


class VersionedHandler(QuietHandler):
    """Serves the folder; under /cond/ with ETag and Last-Modified, answering conditional requests with 304.
    Every response carries `X-Edition` (from edition.txt), a header a test can change alone; pages under
    /plain/ come after the seconds in delay.txt, when there is one.
    Requests are appended to requests.log in the folder (path and conditional headers)."""

    def do_GET(self) -> None:
        root = Path(self.directory)
        path = root / self.path.split("?")[0].lstrip("/")
        with open(root / "requests.log", "a", encoding="utf-8") as log:
            log.write(f"{self.path}\t{self.headers.get('If-None-Match', '')}\t"
                      f"{self.headers.get('If-Modified-Since', '')}\n")
        if not path.is_file() or path.suffix != ".html":
            self.send_error(404)
            return
        delay = root / "delay.txt"
        if delay.exists() and "/plain/" in self.path:
            time.sleep(float(delay.read_text()))
        body = path.read_bytes()
        headers = {"Content-Type": "text/html; charset=utf-8",
                   "X-Edition": (root / "edition.txt").read_text().strip()}
        if self.path.startswith("/cond/"):
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            modified = int(path.stat().st_mtime)
            headers.update({"ETag": etag, "Last-Modified": formatdate(modified, usegmt=True)})
            since = self.headers.get("If-Modified-Since")
            match = self.headers.get("If-None-Match")
            if (match == etag) or (match is None and since and
                                   parsedate_to_datetime(since).timestamp() >= modified):
                self.send_response(304)
                for name, value in headers.items():
                    if name != "Content-Type":
                        self.send_header(name, value)
                self.end_headers()
                return
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def versioned_site(folder: Path) -> Iterator[str]:
    (folder / "edition.txt").write_text("1")
    with serve_folder(folder, handler=VersionedHandler) as base_url:
        yield base_url


def served(folder: Path) -> list[tuple[str, str, str]]:
    """Requests the site saw so far: (path, If-None-Match, If-Modified-Since); the log is then emptied."""
    log = folder / "requests.log"
    if not log.exists():
        return []
    rows = [tuple(line.split("\t")) for line in log.read_text().splitlines()]
    log.unlink()
    return rows  # type: ignore[return-value]


def crawl_command(spider: str, archive: Path, *args: str, settings: dict[str, Any] | None = None) -> list[str]:
    merged = {"NEWSARCHIVE_DIR": str(archive), "AUTOTHROTTLE_ENABLED": "False", "LOG_LEVEL": "INFO",
              "NEWSARCHIVE_EXTRACT_WORKERS": "1", "SPIDER_MODULES": SPIDER_MODULES, **(settings or {})}
    command = [sys.executable, "-m", "scrapy", "crawl", spider]
    for name, value in merged.items():
        command += ["-s", f"{name}={value}"]
    return command + list(args)


def start_crawl(command: list[str], log_file: Path) -> subprocess.Popen[bytes]:
    """A crawl in its own process group (so that a test can kill it with its extraction workers)."""
    return subprocess.Popen([*command, "-s", f"LOG_FILE={log_file}"], cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_log(log_file: Path, text: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_file.exists() and text in log_file.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise AssertionError(f"crawl ended ({process.returncode}) before {text!r}:\n"
                                 + log_file.read_text(errors="replace")[-3000:])
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not logged within {timeout}s")


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """kill -9 of the run and every process it started."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
