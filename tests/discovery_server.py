"""The loopback news site of the discovery tests: tests/pages/site/ served at the server root (so its
robots.txt is the site's), feeds and sitemaps with `{{BASE}}` filled in, plus endpoints that only a
handler can play: a gzipped news sitemap, a huge sitemap, a gzip bomb, a video without a file
extension, and a server that answers 429 with Retry-After before it serves a page."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from newsarchive.siteserver import serve_folder
from tests.helpers import PAGES, TrickyHandler

SITE = PAGES / "site"
TEMPLATED = (".xml", ".rss", ".txt", ".atom")
HUGE_SITEMAP_ENTRIES = 100_000


class NewsSiteHandler(TrickyHandler):
    seen: ClassVar[list[tuple[float, str, str]]] = []  # (time, path, user agent) of every request, in order
    busy_served: ClassVar[set[str]] = set()
    lock = threading.Lock()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        with self.lock:
            self.seen.append((time.time(), self.path, self.headers.get("User-Agent", "")))
        if path == "/sitemap-news.xml.gz":
            self.send_body(200, gzip.compress(self.templated(SITE / "sitemap-news.xml")),
                           {"Content-Type": "application/x-gzip"})
        elif path == "/malicious/sitemap-huge.xml.gz":
            self.send_body(200, self.huge_sitemap(), {"Content-Type": "application/x-gzip"})
        elif path == "/malicious/sitemap-gzip-bomb.xml.gz":
            self.send_body(200, self.gzip_bomb(), {"Content-Type": "application/x-gzip"})
        elif path.startswith("/busy/"):
            with self.lock:
                first = path not in self.busy_served
                self.busy_served.add(path)
            if first:
                self.send_body(429, b"<html><body>Slow down</body></html>",
                               {"Content-Type": "text/html", "Retry-After": "2"})
            else:
                self.send_body(200, (SITE / path[len("/busy/"):]).read_bytes(),
                               {"Content-Type": "text/html; charset=utf-8"})
        elif path.startswith("/media/"):
            self.send_body(200, b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200_000, {"Content-Type": "video/mp4"})
        elif path.endswith(TEMPLATED) and (SITE / path.lstrip("/")).is_file():
            kind = self.extensions_map.get(Path(path).suffix, "application/xml")
            self.send_body(200, self.templated(SITE / path.lstrip("/")), {"Content-Type": kind})
        else:
            super().do_GET()

    def base(self) -> str:
        return "http://" + str(self.headers.get("Host"))

    def templated(self, file: Path) -> bytes:
        return file.read_bytes().replace(b"{{BASE}}", self.base().encode())

    @staticmethod
    @cache
    def gzip_bomb() -> bytes:
        """About 100 kB on the wire, 100 MB unpacked: more than DOWNLOAD_MAXSIZE (64 MiB)."""
        return gzip.compress(b'<?xml version="1.0"?><urlset>' + b" " * 100_000_000, compresslevel=9)

    @staticmethod
    def huge_sitemap() -> bytes:
        rows = "".join(f"<url><loc>http://example.invalid/n/{i}-a-story-that-is-elsewhere.html</loc></url>"
                       for i in range(HUGE_SITEMAP_ENTRIES))
        return gzip.compress(('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                              f"{rows}</urlset>").encode(), compresslevel=1)


@contextmanager
def serve_news_site() -> Iterator[str]:
    with serve_folder(SITE, handler=NewsSiteHandler) as base_url:
        yield base_url
