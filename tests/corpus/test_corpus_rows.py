"""The small pure parts of the corpus tools: site names, filters, duplicate finding."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from newsarchive.corpus_rows import RowFilter, parse_day, site_of
from newsarchive.dedup import DuplicateFinder, body_text


def test_site_of() -> None:
    assert site_of("https://www.Example.com/a") == "example.com"
    assert site_of("http://example.com:80/a") == "example.com"
    assert site_of("http://127.0.0.1:8080/a") == "127.0.0.1:8080"
    assert site_of("https://news.example.co.uk:443/") == "news.example.co.uk"


def test_parse_day() -> None:
    assert parse_day("2026-11-20T08:00:00+00:00") == date(2026, 11, 20)
    assert parse_day("2026-11-20") == date(2026, 11, 20)
    assert parse_day("20 Nov 2026") is None and parse_day(None) is None


ROW: dict[str, Any] = {"warc_record_id": "<urn:uuid:1>", "site": "news.example.com", "language": "de",
                       "word_count": 120, "date_published": "2026-11-20T08:00:00+00:00"}


@pytest.mark.parametrize(("filters", "accepted"), [
    (RowFilter(), True),
    (RowFilter(languages=("de",)), True),
    (RowFilter(languages=("en", "fr")), False),
    (RowFilter(sites=("example.com",)), True),
    (RowFilter(sites=("www.example.com",)), True),
    (RowFilter(sites=("ample.com",)), False),
    (RowFilter(min_words=120), True),
    (RowFilter(min_words=121), False),
    (RowFilter(since=date(2026, 11, 20), until=date(2026, 11, 20)), True),
    (RowFilter(since=date(2026, 11, 21)), False),
    (RowFilter(until=date(2026, 11, 19)), False),
    (RowFilter(only_ids=frozenset({"<urn:uuid:2>"})), False),
])
def test_row_filter(filters: RowFilter, accepted: bool) -> None:
    assert filters.accepts(dict(ROW)) is accepted


def test_date_filters_leave_out_undated_rows() -> None:
    assert not RowFilter(since=date(2000, 1, 1)).accepts({**ROW, "date_published": None})
    assert RowFilter().accepts({**ROW, "date_published": None})


def test_body_text_drops_a_repeated_headline_only() -> None:
    assert body_text({"title": "Big News!", "text": "Big news\nThe text."}) == "The text."
    assert body_text({"title": "Big News", "text": "Other line\nThe text."}) == "Other line\nThe text."


def test_duplicate_finder() -> None:
    base = " ".join(f"word{i}" for i in range(200))
    near = base.replace("word100 word101", "changed words")
    finder = DuplicateFinder()
    assert finder.add({"warc_record_id": "a", "url": "http://a/", "text": base}) is None
    assert finder.add({"warc_record_id": "b", "url": "http://b/", "text": base.upper()}) == "a"
    assert finder.add({"warc_record_id": "c", "url": "http://c/", "text": near}) == "a"
    assert finder.add({"warc_record_id": "d", "url": "http://d/", "text": "something else entirely " * 20}) is None
    assert finder.kept_with("a") == ["http://b/", "http://c/"] and finder.duplicates == 2
    assert finder.is_duplicate("c") and not finder.is_duplicate("d")
    with pytest.raises(ValueError, match=r"between 0\.1 and 0\.95"):
        DuplicateFinder(threshold=1.0)
