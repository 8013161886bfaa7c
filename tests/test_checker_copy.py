"""The copy of the independent WARC checker in tests/tools is the shared one, unmodified."""

from __future__ import annotations

import pytest

from tests.helpers import SHARED_CHECK_WARC, VENDORED_CHECK_WARC


@pytest.mark.skipif(not SHARED_CHECK_WARC.is_file(), reason="no ../shared beside this checkout")
def test_the_vendored_checker_is_the_shared_one() -> None:
    assert VENDORED_CHECK_WARC.read_bytes() == SHARED_CHECK_WARC.read_bytes(), (
        "tests/tools/check_warc.py differs from ../shared/tools/check_warc.py: copy it again")
