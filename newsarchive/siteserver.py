"""A folder of pages served over HTTP on 127.0.0.1, for the demo (and the tests, which extend it)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves files; logs requests at debug level instead of on stderr."""

    protocol_version = "HTTP/1.1"
    extensions_map = {  # noqa: RUF012 - the stdlib's own class attribute
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".xml": "application/xml",
        ".rss": "application/rss+xml",
        ".atom": "application/atom+xml",
        ".txt": "text/plain; charset=utf-8",
    }

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


@contextmanager
def serve_folder(
    folder: Path, handler: type[SimpleHTTPRequestHandler] = QuietHandler, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Serves `folder` in a thread; yields the base URL (`http://127.0.0.1:PORT`)."""
    server = ThreadingHTTPServer((host, port), partial(handler, directory=str(folder)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="siteserver", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
