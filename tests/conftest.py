"""Fixtures: a real HTTP server on 127.0.0.1 serving tests/pages and misbehaving endpoints."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from newsarchive.siteserver import serve_folder
from tests.helpers import PAGES, TrickyHandler
from tests.redis_helpers import RedisServer


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    """Base URL of the loopback test site."""
    with serve_folder(PAGES, handler=TrickyHandler) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server for the session (Debian's redis-server), on a free port, with a password."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()
