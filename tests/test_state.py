"""The small parts of recrawling: ages, the SQLite crawl state, recovery of a torn WARC file."""

from __future__ import annotations

import json
import pickle
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.config import SettingError
from newsarchive.recovery import recover
from newsarchive.sidecar import dumps, sidecar_path
from newsarchive.state import Capture, SQLiteCrawlState
from newsarchive.warc_writer import HTTPExchange, WARCFileWriter
from tests.helpers import check_warc


def test_recrawl_ages() -> None:
    from newsarchive.recrawl import parse_age

    assert parse_age("6h", "x") == timedelta(hours=6)
    assert parse_age("7d", "x") == timedelta(days=7)
    assert parse_age("90m", "x") == timedelta(minutes=90)
    assert parse_age("0", "x") == timedelta(0)
    assert parse_age("never", "x") is None
    with pytest.raises(SettingError, match="-a recrawl must be an age like 6h"):
        parse_age("soon", "-a recrawl")


def capture(record_id: str, url: str = "http://a.test/x", date: str = "2026-11-26T09:00:00.000000Z",
            warc_file: str = "f.warc.gz", offset: int = 0) -> Capture:
    return Capture(url, record_id, warc_file, offset, 10, date, 200, "sha1:AAAA", '"e1"', None)


def test_state_completions_and_forgetting(tmp_path: Path) -> None:
    state = SQLiteCrawlState(tmp_path / "state.sqlite3")
    state.record_capture(capture("<urn:1>"))
    assert state.archived("http://a.test/x") is None  # captured, not done: fetch again
    state.mark_done("<urn:1>", ["http://a.test/x#top", "http://a.test/redirected"])
    assert state.archived("http://a.test/x").record_id == "<urn:1>"  # type: ignore[union-attr]
    assert state.archived("http://a.test/redirected").record_id == "<urn:1>"  # type: ignore[union-attr]
    state.record_capture(capture("<urn:2>", date="2026-11-27T09:00:00.000000Z", warc_file="g.warc.gz"))
    state.mark_done("<urn:2>", ["http://a.test/x"])
    state.mark_done("<urn:1>", ["http://a.test/x"])  # again: does not reorder
    assert state.archived("http://a.test/x").record_id == "<urn:2>"  # type: ignore[union-attr]
    assert [c.record_id for c in state.captures_in("g.warc.gz")] == ["<urn:2>"]
    assert state.forget(["<urn:2>", "<urn:unknown>"]) == 1
    assert state.archived("http://a.test/x").record_id == "<urn:1>"  # type: ignore[union-attr]
    state.mark_done("<urn:unknown>", ["http://a.test/y"])
    assert state.archived("http://a.test/y") is None
    state.add_counts("boilerplate:a.test", {"docs": 2, "block:abc": 1})
    state.add_counts("boilerplate:a.test", {"docs": 1})
    assert state.counts("boilerplate:a.test") == {"docs": 3, "block:abc": 1}
    previous = state.archived("http://a.test/x")
    assert pickle.loads(pickle.dumps(previous)) == previous  # travels in meta, JOBDIR queues pickle it
    state.close()
    reopened = SQLiteCrawlState(tmp_path / "state.sqlite3")
    assert reopened.archived("http://a.test/x").fetched_at == datetime(2026, 11, 26, 9, tzinfo=UTC)  # type: ignore[union-attr]
    reopened.close()


def written_file(root: Path) -> tuple[Path, list[dict[str, object]]]:
    """An open WARC file of three pages, and the sidecar rows of its responses."""
    writer, rows = WARCFileWriter(root, prefix="t"), []
    for n in range(3):
        body = f"<html><body><p>page {n}</p></body></html>".encode()
        exchange = HTTPExchange(f"http://a.test/{n}", "GET", f"/{n}", [("Host", "a.test")], b"", "HTTP/1.1", 200,
                                "OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))], body,
                                datetime.now(UTC))
        response, _ = writer.write_exchange(exchange)
        writer.write_conversion(exchange.url, f"page {n}", response)
        rows.append({"url": exchange.url, "final_url": exchange.url, "warc_file": response.warc_file,
                     "warc_record_id": response.record_id, "warc_offset": response.offset})
    path = writer.current_file
    assert path is not None
    writer._current.handle.close()  # type: ignore[union-attr]  # left open, as a killed run leaves it
    return path.with_name(path.name + ".open"), rows


def test_recovery_keeps_the_whole_records_before_any_cut(tmp_path: Path) -> None:
    source, rows = written_file(tmp_path / "source")
    data = source.read_bytes()
    lines = "".join(dumps(row) + "\n" for row in rows)
    for cut in range(50, len(data), max(1, len(data) // 23)):
        root = tmp_path / f"cut{cut}"
        target = root / source.relative_to(tmp_path / "source")
        target.parent.mkdir(parents=True)
        target.write_bytes(data[:cut])
        sidecar_path(target).write_text(lines)  # as if written before a power cut lost the tail
        state = SQLiteCrawlState(root / "state.sqlite3")
        for row in rows:
            state.record_capture(capture(str(row["warc_record_id"]), str(row["url"]), warc_file=str(row["warc_file"]),
                                         offset=int(row["warc_offset"])))  # type: ignore[call-overload]
            state.mark_done(str(row["warc_record_id"]), [str(row["url"])])
        report = recover(root, state)
        final = target.with_name(target.name.removesuffix(".open"))
        assert not target.exists()
        if report.files[0].removed:
            assert not final.exists() and report.captures_forgotten == 3
            state.close()
            continue
        kept = final.read_bytes()
        assert data.startswith(kept)
        with open(final, "rb") as fh:
            types = [record.rec_type for record in ArchiveIterator(fh)]
        assert types[0] == "warcinfo" and types[-1] != "response"
        assert types.count("response") == types.count("request")
        kept_rows = [json.loads(line) for line in sidecar_path(final).read_text().splitlines()]
        assert len(kept_rows) == types.count("response") == 3 - report.captures_forgotten
        assert {r["url"] for r in kept_rows} == {str(r["url"]) for r in rows if state.archived(str(r["url"]))}
        state.close()
    last = tmp_path / f"cut{range(50, len(data), max(1, len(data) // 23))[-1]}"
    shutil.rmtree(tmp_path / "source")
    assert check_warc(last).returncode == 0
