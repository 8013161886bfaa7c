"""Fixtures: a real HTTP server on 127.0.0.1 serving tests/pages and misbehaving endpoints."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from newsarchive.siteserver import serve_folder
from tests.helpers import PAGES, TrickyHandler


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    """Base URL of the loopback test site."""
    with serve_folder(PAGES, handler=TrickyHandler) as base_url:
        yield base_url
