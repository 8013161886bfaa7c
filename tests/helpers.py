"""Test helpers: a loopback site with misbehaving endpoints, a real `scrapy crawl`, WARC reading."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from warcio.archiveiterator import ArchiveIterator

from newsarchive.siteserver import QuietHandler

REPO = Path(__file__).resolve().parent.parent
PAGES = Path(__file__).resolve().parent / "pages"
SEED = PAGES / "seed"  # copies of ../shared/fixtures/seed, the article the project started from
#: The independent WARC checker: the shared one beside the checkout when there is one, else its unmodified
#: copy in tests/tools (a clone on its own, as CI may make it); NEWSARCHIVE_CHECK_WARC overrides both.
SHARED_CHECK_WARC = REPO.parent / "shared" / "tools" / "check_warc.py"
VENDORED_CHECK_WARC = Path(__file__).resolve().parent / "tools" / "check_warc.py"
CHECK_WARC = Path(os.environ.get("NEWSARCHIVE_CHECK_WARC")
                  or (SHARED_CHECK_WARC if SHARED_CHECK_WARC.is_file() else VENDORED_CHECK_WARC))


class TrickyHandler(QuietHandler):
    """Serves tests/pages, plus endpoints that misbehave the way real servers do."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        route = getattr(self, "route_" + url.path.strip("/").split("/")[0].replace("-", "_"), None)
        if route is not None:
            route(url.path, query)
            return
        super().do_GET()

    def send_body(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route_status(self, path: str, query: dict[str, list[str]]) -> None:
        code = int(path.rstrip("/").rsplit("/", 1)[-1])
        self.send_body(code, f"<html><body><h1>Error {code}</h1></body></html>".encode(),
                       {"Content-Type": "text/html; charset=utf-8"})

    def route_redirect(self, path: str, query: dict[str, list[str]]) -> None:
        self.send_body(301, b"", {"Location": query["to"][0]})

    def route_loop(self, path: str, query: dict[str, list[str]]) -> None:
        other = "/loop/b" if path.endswith("/a") else "/loop/a"
        self.send_body(302, b"", {"Location": other})

    def route_slow(self, path: str, query: dict[str, list[str]]) -> None:
        time.sleep(float(query.get("s", ["5"])[0]))
        self.send_body(200, b"<html><body><p>late</p></body></html>", {"Content-Type": "text/html"})

    def route_gzip(self, path: str, query: dict[str, list[str]]) -> None:
        body = (PAGES / path.split("/", 2)[2]).read_bytes()
        self.send_body(200, gzip.compress(body), {"Content-Type": "text/html; charset=utf-8",
                                                  "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})

    def route_chunked(self, path: str, query: dict[str, list[str]]) -> None:
        body = (PAGES / path.split("/", 2)[2]).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(body), 1000):
            chunk = body[start:start + 1000]
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def route_raw(self, path: str, query: dict[str, list[str]]) -> None:
        """A file from tests/pages with the Content-Type given in ?type= (or none at all)."""
        body = (PAGES / path.split("/", 2)[2]).read_bytes()
        kind = query.get("type", [""])[0]
        self.send_body(200, body, {"Content-Type": kind} if kind else {})

    def route_truncated(self, path: str, query: dict[str, list[str]]) -> None:
        body = (PAGES / "article-plain.html").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body) + 5000))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def route_phrase(self, path: str, query: dict[str, list[str]]) -> None:
        """A status line with a reason phrase of the server's own (kept as sent in the WARC)."""
        body = (PAGES / "article-plain.html").read_bytes()
        self.send_response(200, "Fine Thanks")
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route_serial(self, path: str, query: dict[str, list[str]]) -> None:
        """A story over pages ?page=1..3, each linking "Next page" to the one after; page 4 is a 404."""
        page = int(query.get("page", ["1"])[0])
        if page > 3:
            self.route_status("/status/404", {})
            return
        sentences = " ".join(f"Part {page} of the serial, sentence {n}, tells how the river town rebuilt "
                             f"its old stone bridge after the floods of that winter." for n in range(8))
        body = (f"<html><head><title>The bridge, page {page}</title></head><body><h1>The bridge</h1>"
                f"<article><p>{sentences}</p><p>PAGE-{page}-END</p></article>"
                f'<nav><a href="{path}?page={page + 1}">Next page</a></nav></body></html>')
        self.send_body(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def route_seed(self, path: str, query: dict[str, list[str]]) -> None:
        """The shared seed fixtures, served as the site would."""
        body = (SEED / path.split("/", 2)[2]).read_bytes()
        self.send_body(200, body, {"Content-Type": "text/html; charset=utf-8"})


@dataclass
class CrawlResult:
    returncode: int
    log: str
    archive: Path

    def stats(self) -> dict[str, Any]:
        """Scrapy's final stats dump, parsed from the log."""
        start = self.log.rfind("Dumping Scrapy stats:")
        if start < 0:
            return {}
        text = self.log[self.log.index("{", start): self.log.index("}\n", start) + 1]
        import ast
        import datetime  # noqa: F401 - eval context for datetime reprs

        return ast.literal_eval(text.replace("datetime.datetime(", "(").replace("tzinfo=datetime.timezone.utc", "0"))


def scrapy_crawl(spider: str, archive: Path, *args: str, settings: dict[str, Any] | None = None,
                 timeout: float = 120, env: dict[str, str] | None = None) -> CrawlResult:
    """Runs a real `scrapy crawl` in the project folder, as a user would."""
    merged = {"NEWSARCHIVE_DIR": str(archive), "AUTOTHROTTLE_ENABLED": "False", "LOG_LEVEL": "INFO",
              "NEWSARCHIVE_EXTRACT_WORKERS": "2", **(settings or {})}
    command = [sys.executable, "-m", "scrapy", "crawl", spider]
    for name, value in merged.items():
        command += ["-s", f"{name}={value}"]
    command += list(args)
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, **(env or {})})
    return CrawlResult(proc.returncode, proc.stdout + proc.stderr, archive)


@dataclass
class Record:
    type: str
    headers: dict[str, str]
    http_status: str | None
    http_headers: list[tuple[str, str]]
    raw_body: bytes  # block after HTTP headers, as stored
    file: Path
    offset: int


def read_records(archive: Path) -> list[Record]:
    """Every record of every WARC under archive, in file and offset order."""
    records = []
    for path in sorted(archive.rglob("*.warc.gz")):
        with open(path, "rb") as fh:
            iterator = ArchiveIterator(fh)
            for rec in iterator:
                body = rec.raw_stream.read()
                http = rec.http_headers
                records.append(Record(
                    rec.rec_type, dict(rec.rec_headers.headers),
                    http.statusline if http else None, list(http.headers) if http else [],
                    body, path, iterator.get_record_offset()))
    return records


def read_sidecars(archive: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(archive.rglob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def check_warc(*paths: Path) -> subprocess.CompletedProcess[str]:
    """The shared independent checker, run as its header says."""
    return subprocess.run([sys.executable, str(CHECK_WARC), *map(str, paths)],
                          capture_output=True, text=True, check=False)


def fold(text: str) -> str:
    """White space folded, NBSP as a space (how the seed's expected text is compared)."""
    return " ".join(text.replace("\u00a0", " ").split())


def load_seed_expected() -> dict[str, Any]:
    return json.loads((SEED / "sputnik-article.expected.json").read_text(encoding="utf-8"))
