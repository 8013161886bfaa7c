"""Test helpers for shared crawls: a real redis-server, a generated news site, worker processes."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from newsarchive.sidecar import read_rows
from tests.helpers import REPO, TrickyHandler

PASSWORD = "s3cret-test-pw"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server on 127.0.0.1, password-protected, in its own folder."""

    folder: Path
    port: int = field(default_factory=free_port)
    password: str = PASSWORD
    persist: bool = False  # AOF with fsync always: what a restart test needs
    tls: bool = False  # TLS only, with a certificate made for 127.0.0.1 by a CA of its own
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.tls:
            ca = self.folder / "ca.pem"
            return f"rediss://:{self.password}@127.0.0.1:{self.port}/0?ssl_cert_reqs=required&ssl_ca_certs={ca}"
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def _make_certificates(self) -> list[str]:
        """A CA and a server certificate for 127.0.0.1 (openssl), and redis-server's TLS options."""
        f = self.folder
        options = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(f / "server.pem"),
                   "--tls-key-file", str(f / "server.key"), "--tls-ca-cert-file", str(f / "ca.pem"),
                   "--tls-auth-clients", "no"]
        if (f / "server.pem").exists():
            return options

        def openssl(*args: str) -> None:
            subprocess.run(["openssl", *args], check=True, capture_output=True)

        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test CA",
                "-keyout", str(f / "ca.key"), "-out", str(f / "ca.pem"))
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                "-keyout", str(f / "server.key"), "-out", str(f / "server.csr"))
        (f / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", str(f / "server.csr"), "-CA", str(f / "ca.pem"), "-CAkey", str(f / "ca.key"),
                "-CAcreateserial", "-days", "2", "-extfile", str(f / "san.ext"), "-out", str(f / "server.pem"))
        return options

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
                   "--requirepass", self.password, "--save", "", "--protected-mode", "yes",
                   "--logfile", str(self.folder / "redis.log")]
        command += ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else ["--appendonly", "no"]
        if self.tls:
            command += self._make_certificates()
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return self
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start: {(self.folder / 'redis.log').read_text()[-2000:]}")

    def stop(self) -> None:
        """SIGTERM: Redis writes its AOF and exits, as on a service restart."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)
        self.process = None


ARTICLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Loopback Herald</title>
<meta name="author" content="{author}"><meta property="article:published_time" content="{date}">
</head><body>
<nav><a href="/">Home</a> <a href="/news/">News</a> <a href="/sport/">Sport</a></nav>
<article><h1>{title}</h1><p class="byline">By {author}, {date}</p>
{paragraphs}
<p>{widget}</p>
</article>
<footer>© Loopback Herald. All rights reserved.</footer>
</body></html>
"""

PLACES = ["Harbourside", "Millbrook", "Easton", "the old quarter", "Riverside", "North Fell", "Kingsmead", "Ashford"]
SUBJECTS = ["The council", "A local baker", "Volunteers", "The rowing club", "Teachers", "The museum", "Farmers",
            "A group of students", "Night-shift nurses", "The ferry operator"]
VERBS = ["announced", "celebrated", "questioned", "opened", "postponed", "funded", "rebuilt", "mapped", "measured"]
OBJECTS = ["a new footbridge", "the winter market", "plans for a cycle lane", "a community garden", "the harbour wall",
           "a reading festival", "repairs to the chapel roof", "an archive of old photographs", "the flood defences"]
EXTRAS = ["after months of debate", "despite the heavy rain", "with help from neighbours", "ahead of the holidays",
          "to the surprise of many residents", "for the first time in a decade", "on a shoestring budget"]


# The same paragraph on every page: site-level boilerplate, to be learned across all workers.
WIDGET = ("Every weekday morning the Loopback Herald briefing brings the region's news, weather and sport "
          "to your inbox, free of charge and without advertising.")


def _sentence(rng: random.Random) -> str:
    return (f"{rng.choice(SUBJECTS)} in {rng.choice(PLACES)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
            f"{rng.choice(EXTRAS)}, and {rng.randint(2, 900)} people took part.")


def generate_site(folder: Path, articles: int, moved: int = 5) -> list[str]:
    """Writes `articles` distinct article pages (plus `moved` that are only reached through a redirect).

    Returns the paths to crawl: the articles and the `/redirect?to=` URLs of the moved ones.
    """
    news = folder / "news"
    news.mkdir(parents=True, exist_ok=True)
    (folder / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    paths = []
    for number in range(articles + moved):
        rng = random.Random(number)
        title = f"Story {number}: {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
        paragraphs = "\n".join(
            "<p>" + " ".join(_sentence(rng) for _ in range(rng.randint(2, 4))) + f" (Report {number}.{p})</p>"
            for p in range(rng.randint(3, 5)))
        page = ARTICLE.format(title=title, author=rng.choice(["Ann Lee", "Bo Diaz", "Cy Park", "Di Moss"]),
                              date=f"2026-11-{1 + number % 25:02d}", paragraphs=paragraphs, widget=WIDGET)
        name = f"story-{number:04d}.html"
        (news / name).write_text(page, encoding="utf-8")
        paths.append(f"/news/{name}" if number < articles else f"/redirect?to=/news/{name}")
    return paths


class SlowishHandler(TrickyHandler):
    """The test site, answering each page after a short delay (so that a crawl lasts a few seconds)."""

    delay = 0.02

    def do_GET(self) -> None:
        time.sleep(self.delay)
        super().do_GET()


def start_worker(archive: Path, log: Path, *args: str, settings: dict[str, Any],
                 spider: str = "article") -> subprocess.Popen[bytes]:
    """A `scrapy crawl SPIDER` worker in the background, its output in `log`."""
    merged = {"NEWSARCHIVE_DIR": str(archive), "AUTOTHROTTLE_ENABLED": "False", "LOG_LEVEL": "INFO",
              "NEWSARCHIVE_EXTRACT_WORKERS": "1", **settings}
    command = [sys.executable, "-m", "scrapy", "crawl", spider]
    for name, value in merged.items():
        command += ["-s", f"{name}={value}"]
    command += list(args)
    with open(log, "wb") as out:
        return subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))


def wait_all(processes: list[subprocess.Popen[bytes]], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    codes = []
    for proc in processes:
        try:
            codes.append(proc.wait(timeout=max(0.1, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(proc.wait())
    return codes


def sidecar_rows(*archives: Path) -> list[dict[str, Any]]:
    """Every readable sidecar row under the folders (a line cut short by a kill is skipped)."""
    rows = []
    for archive in archives:
        for path in sorted(archive.rglob("*.jsonl")):
            rows += list(read_rows(path))
    return rows


def wait_for(predicate: Any, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
