"""N distinct news pages on many loopback hosts, served by Debian's nginx (started and stopped here).

Page i is source page i mod S (S = 181 aeb pages) with a unique comment marker, on host 127.0.0.(2 + i mod H).
S is prime and H is not a multiple of it, so with H × S ≥ N no host serves the same source page twice.
"""

from __future__ import annotations

import gzip
import math
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MAX_HOSTS = 250  # 127.0.0.2 .. 127.0.0.251


@dataclass(frozen=True)
class Page:
    url: str
    path: Path  # the file nginx serves
    source: int  # index of the aeb page it copies


def load_sources(data_dir: Path) -> list[bytes]:
    """The aeb pages, decompressed, in name order."""
    files = sorted((data_dir / "html").glob("*.html.gz"))
    if not files:
        raise SystemExit(f"no pages in {data_dir / 'html'} (expected *.html.gz)")
    return [gzip.decompress(f.read_bytes()) for f in files]


def host_count(n: int, sources: int) -> int:
    hosts = max(100, math.ceil(n / sources))
    if hosts % sources == 0:
        hosts += 1
    if hosts > MAX_HOSTS:
        raise SystemExit(f"{n} pages need more than {MAX_HOSTS} hosts of {sources} pages each")
    return hosts


def _marked(html: bytes, marker: bytes) -> bytes:
    """The page with an HTML comment that makes it unique (extraction ignores comments)."""
    lower = html[:4096].lower()
    at = lower.find(b"<head")
    if at >= 0:
        at = html.index(b">", at) + 1
        return html[:at] + marker + html[at:]
    return marker + html


def build_pages(sources: list[bytes], root: Path, n: int, port: int) -> list[Page]:
    """Writes N pages under root/<host>/ and returns them in crawl order (hosts interleaved)."""
    hosts = host_count(n, len(sources))
    pages = []
    for i in range(n):
        source = i % len(sources)
        host = f"127.0.0.{2 + i % hosts}"
        path = root / host / f"p{i:06d}-s{source:03d}.html"
        if i < hosts:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_marked(sources[source], f"<!-- newsarchive-bench copy {i} -->".encode()))
        pages.append(Page(f"http://{host}:{port}/{path.name}", path, source))
    return pages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ text/html html; }}
    default_type application/octet-stream;
    charset utf-8;
    sendfile on;
    keepalive_requests 100000;
    server {{
{listen}
        root {root}/$server_addr;
    }}
}}
"""


@contextmanager
def nginx(root: Path, port: int, hosts: int, tmp: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Debian's nginx serving root/<address>/ on 127.0.0.2..(hosts+1):port, stopped on exit."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(binary):
        raise SystemExit("nginx not found: install Debian's nginx-light (benchmarks/run.sh does)")
    tmp.mkdir(parents=True, exist_ok=True)
    listen = "\n".join(f"        listen 127.0.0.{2 + h}:{port};" for h in range(hosts))
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, listen=listen, root=root))
    proc = subprocess.Popen([binary, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(conf)])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.2", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("nginx did not start: " + (tmp / "error.log").read_text()) from None
                time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
