"""`newsarchive verify` on the intact archive and on damaged copies: each problem named, where it is."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.corpus.support import CorpusArchive, run_cli
from tests.helpers import read_records


def checksums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def damaged(corpus: CorpusArchive, tmp_path: Path) -> Path:
    """A copy of the archive to damage."""
    return Path(shutil.copytree(corpus.path, tmp_path / "archive"))


def first_crawl(archive: Path) -> tuple[Path, Path, list[dict[str, Any]]]:
    """The WARC of the first crawl, its sidecar and rows."""
    sidecar = min(archive.rglob("*.jsonl"))
    rows = [json.loads(line) for line in sidecar.read_text(encoding="utf-8").splitlines()]
    return archive / rows[0]["warc_file"], sidecar, rows


def verify(archive: Path) -> tuple[int, str]:
    before = checksums(archive)
    result = run_cli("verify", archive)
    assert checksums(archive) == before, "verify changed the archive"
    return result.returncode, result.stdout


def test_intact_archive_passes(corpus: CorpusArchive) -> None:
    status, out = verify(corpus.path)
    assert status == 0, out
    records = len(read_records(corpus.path))
    assert f"2 WARC files, {records} records in {records} gzip members, 2 sidecars with 7 rows: 0 problems." in out
    assert "DAMAGED" not in out


def test_flipped_byte_in_a_compressed_payload(damaged: Path) -> None:
    warc, _, rows = first_crawl(damaged)
    row = rows[1]
    data = bytearray(warc.read_bytes())
    data[row["warc_offset"] + row["warc_length"] // 2] ^= 0x01
    warc.write_bytes(bytes(data))
    status, out = verify(damaged)
    assert status == 1
    name = warc.relative_to(damaged)
    assert f"DAMAGED {name}: first bad offset {row['warc_offset']}: gzip member is corrupt" in out
    assert out.splitlines()[0].endswith("problems.") and " 0 problems" not in out


def test_changed_payload_byte_fails_its_digest(damaged: Path) -> None:
    """A member recompressed whole, with one letter of the article changed: only the digests can tell."""
    warc, _, rows = first_crawl(damaged)
    row = rows[-1]  # the last member of the file's responses; later members move, so take the last row
    data = warc.read_bytes()
    start, end = row["warc_offset"], row["warc_offset"] + row["warc_length"]
    member = gzip.decompress(data[start:end])
    position = member.index(b"</p>")
    changed = member[:position - 1] + (b"X" if member[position - 1:position] != b"X" else b"Y") + member[position:]
    warc.write_bytes(data[:start] + gzip.compress(changed) + data[end:])
    status, out = verify(damaged)
    assert status == 1
    name = warc.relative_to(damaged)
    assert f"DAMAGED {name}: first bad offset {start}: response record: " in out
    assert "payload digest failed" in out and "block digest failed" in out


def test_truncated_warc(damaged: Path) -> None:
    warc, _, rows = first_crawl(damaged)
    last = max(rows, key=lambda r: r["warc_offset"])
    size = warc.stat().st_size
    with open(warc, "r+b") as fh:
        fh.truncate(size - 40)
    status, out = verify(damaged)
    assert status == 1
    first_bad = next(line for line in out.splitlines() if line.startswith(f"DAMAGED {warc.relative_to(damaged)}"))
    assert "gzip member ends early (file truncated)" in first_bad
    assert int(first_bad.split("first bad offset ")[1].split(":")[0]) > last["warc_offset"]


def test_junk_after_the_last_record(damaged: Path) -> None:
    warc, _, _ = first_crawl(damaged)
    size = warc.stat().st_size
    with open(warc, "ab") as fh:
        fh.write(b"this is not a WARC record\n" * 3)
    status, out = verify(damaged)
    assert status == 1
    assert f"DAMAGED {warc.relative_to(damaged)}: first bad offset {size}: 78 bytes of junk" in out


def test_sidecar_pointing_at_a_wrong_offset(damaged: Path) -> None:
    _, sidecar, rows = first_crawl(damaged)
    rows[2]["warc_offset"] = rows[3]["warc_offset"]
    sidecar.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    status, out = verify(damaged)
    assert status == 1
    assert (f"DAMAGED {sidecar.relative_to(damaged)}: first bad line 3: warc_offset {rows[3]['warc_offset']} "
            f"holds {rows[3]['warc_record_id']}, not {rows[2]['warc_record_id']}") in out
    assert "1 problems." in out


def test_stray_open_file(damaged: Path) -> None:
    warc, _, _ = first_crawl(damaged)
    stray = warc.with_name("newsarchive-crashed.warc.gz.open")
    stray.write_bytes(b"")
    status, out = verify(damaged)
    assert status == 1
    assert f"DAMAGED {stray.relative_to(damaged)}: first bad file: left open (*.open)" in out


def test_response_without_its_request(damaged: Path) -> None:
    """The last response's request member cut out of the file: the response is named, unpaired."""
    warc, _, _ = first_crawl(damaged)
    records = [r for r in read_records(damaged) if r.file == warc]
    response = [r for r in records if r.type == "response"][-1]
    index, request = next((i, r) for i, r in enumerate(records) if r.type == "request"
                          and r.headers["WARC-Concurrent-To"] == response.headers["WARC-Record-ID"])
    end = records[index + 1].offset if index + 1 < len(records) else warc.stat().st_size
    data = warc.read_bytes()
    warc.write_bytes(data[:request.offset] + data[end:])
    status, out = verify(damaged)
    assert status == 1
    assert (f"DAMAGED {warc.relative_to(damaged)}: first bad offset {response.offset}: "
            f"response {response.headers['WARC-Record-ID']} has no request record") in out
    assert "1 problems." in out
