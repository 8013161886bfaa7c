"""`newsarchive export`: each format, its columns, the filters, latest captures and --dedup."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from newsarchive import export
from newsarchive.corpus_rows import RowFilter
from newsarchive.export import COLUMNS, ExportOptions, export_archive
from tests.corpus.support import ALPHA, BETA, CorpusArchive, run_cli, site
from tests.helpers import read_sidecars


def export_jsonl(corpus: CorpusArchive, out: Path, *args: str) -> list[dict[str, Any]]:
    result = run_cli("export", corpus.path, "-o", out, *args)
    assert result.returncode == 0, result.stderr
    assert f"Wrote {len(out.read_text().splitlines())} articles to {out}" in result.stdout
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def by_url(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["url"]: row for row in rows}


def test_jsonl_has_one_row_per_article_latest_capture(corpus: CorpusArchive, tmp_path: Path) -> None:
    rows = export_jsonl(corpus, tmp_path / "corpus.jsonl")
    assert len(rows) == 6
    assert set(by_url(rows)) == {corpus.url(p) for p in ALPHA + BETA}
    assert all(list(row) == COLUMNS for row in rows)
    storm_captures = [r for r in read_sidecars(corpus.path) if r["url"] == corpus.url(ALPHA[0])]
    assert len(storm_captures) == 2
    first, latest = storm_captures  # the recrawl found the page changed: its line supersedes the first
    assert latest["supersedes"] == first["warc_record_id"]
    storm = by_url(rows)[corpus.url(ALPHA[0])]
    assert storm["warc_record_id"] == latest["warc_record_id"]
    assert storm["title"] == "Storm Closes Northern Ports"
    assert storm["site"] == site(corpus.alpha)
    assert storm["date_published"].startswith("2026-11-20")
    assert "eleven metres" in storm["text"] and "nine metres" not in storm["text"]
    assert storm["word_count"] > 200
    assert storm["duplicate_urls"] == []
    assert storm["extractor_name"] == "trafilatura" and storm["newsarchive_version"]
    everything = export_jsonl(corpus, tmp_path / "all.jsonl", "--all-captures")
    assert len(everything) == 7
    assert [r["warc_record_id"] for r in everything if r["url"] == storm["url"]] == [
        first["warc_record_id"], latest["warc_record_id"]]


def test_parquet_loads_in_pandas_and_duckdb_in_row_groups(corpus: CorpusArchive, tmp_path: Path) -> None:
    out = tmp_path / "corpus.parquet"
    result = run_cli("export", corpus.path, "-o", out, "--format", "parquet")
    assert result.returncode == 0, result.stderr
    frame = pd.read_parquet(out)
    assert len(frame) == 6 and list(frame.columns) == COLUMNS
    assert str(frame["fetched_at"].dtype) == "datetime64[ms, UTC]"
    assert frame["word_count"].dtype == "int32"
    council = frame[frame["url"] == corpus.url(ALPHA[1])].iloc[0]
    assert list(council["authors"]) == ["Mara Lind"]
    query = duckdb.sql(f"SELECT site, count(*) AS n, sum(word_count) AS words FROM read_parquet('{out}') "
                       "GROUP BY site ORDER BY site")
    assert query is not None
    counts = query.fetchall()
    assert {name: n for name, n, _ in counts} == {site(corpus.alpha): 3, site(corpus.beta): 3}
    assert sum(words for *_, words in counts) == int(frame["word_count"].sum())


def test_parquet_is_written_in_row_groups(corpus: CorpusArchive, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "BATCH_ROWS", 2)
    out = tmp_path / "small-groups.parquet"
    result = export_archive(corpus.path, out, ExportOptions(format="parquet"))
    assert result.rows == 6
    assert pq.ParquetFile(out).metadata.num_row_groups == 3
    assert pq.read_table(out).schema.equals(export.SCHEMA)


def test_csv_has_a_header_and_json_lists(corpus: CorpusArchive, tmp_path: Path) -> None:
    out = tmp_path / "corpus.csv"
    result = run_cli("export", corpus.path, "-o", out, "--format", "csv")
    assert result.returncode == 0, result.stderr
    with open(out, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == COLUMNS
    assert len(rows) == 6
    german = next(r for r in rows if r["url"] == corpus.url(BETA[2]))
    assert german["title"] == "Stadtbibliothek öffnet länger"
    assert json.loads(german["authors"]) == ["Jonas Weber"]
    assert "Öffnungszeiten" in german["text"]


def export_rows(corpus: CorpusArchive, out: Path, **filters: Any) -> list[dict[str, Any]]:
    """The library function the CLI calls, for the many filter combinations."""
    result = export_archive(corpus.path, out, ExportOptions(filters=RowFilter(**filters)))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert result.rows == len(rows)
    return rows


def test_filters(corpus: CorpusArchive, tmp_path: Path) -> None:
    window = export_rows(corpus, tmp_path / "window.jsonl", since=date(2026, 11, 15), until=date(2026, 11, 20))
    assert set(by_url(window)) == {corpus.url(ALPHA[0]), corpus.url(BETA[0]), corpus.url(BETA[2])}
    alpha = export_rows(corpus, tmp_path / "alpha.jsonl", sites=(site(corpus.alpha),))
    assert set(by_url(alpha)) == {corpus.url(p) for p in ALPHA}
    long = export_rows(corpus, tmp_path / "long.jsonl", min_words=60)
    assert corpus.url(ALPHA[2]) not in by_url(long) and len(long) == 5
    combined = export_jsonl(corpus, tmp_path / "combined.jsonl", "--site", site(corpus.beta), "--min-words", "60",
                            "--since", "2026-11-12", "--until", "2026-11-30")
    assert set(by_url(combined)) == {corpus.url(BETA[0]), corpus.url(BETA[2])}
    assert export_rows(corpus, tmp_path / "none.jsonl", since=date(2027, 1, 1)) == []


def test_language_filter_keeps_exactly_that_language(corpus: CorpusArchive, tmp_path: Path) -> None:
    everything = export_rows(corpus, tmp_path / "all.jsonl")
    for lang in ("de", "en"):
        rows = export_rows(corpus, tmp_path / f"{lang}.jsonl", languages=(lang,))
        assert {r["url"] for r in rows} == {r["url"] for r in everything if r["language"] == lang}
    german = export_jsonl(corpus, tmp_path / "de-cli.jsonl", "--lang", "de")
    assert [r["url"] for r in german] == [corpus.url(BETA[2])]


def test_dedup_folds_exact_and_near_duplicates(corpus: CorpusArchive, tmp_path: Path) -> None:
    rows = export_jsonl(corpus, tmp_path / "dedup.jsonl", "--dedup")
    urls = by_url(rows)
    assert len(rows) == 4
    # the wire story (other headline, one sentence changed, other site), and the same text under
    # another headline: each pair is one row (the one crawled first), listing the other's URL
    for pair in ((ALPHA[0], BETA[0]), (ALPHA[1], BETA[1])):
        first, second = (corpus.url(page) for page in pair)
        kept = [urls[url] for url in (first, second) if url in urls]
        assert len(kept) == 1, pair
        assert kept[0]["duplicate_urls"] == [second if kept[0]["url"] == first else first]
    assert urls[corpus.url(BETA[2])]["duplicate_urls"] == []
    assert urls[corpus.url(ALPHA[2])]["duplicate_urls"] == []
    strict_out = tmp_path / "strict.jsonl"
    export_archive(corpus.path, strict_out, ExportOptions(dedup=True, dedup_threshold=0.95))
    strict = [json.loads(line) for line in strict_out.read_text(encoding="utf-8").splitlines()]
    assert len(strict) == 5 and {corpus.url(ALPHA[0]), corpus.url(BETA[0])} <= set(by_url(strict))


def test_bad_usage_exits_nonzero(corpus: CorpusArchive, tmp_path: Path) -> None:
    assert run_cli("export", tmp_path / "missing", "-o", tmp_path / "x.jsonl").returncode == 2
    assert run_cli("export", corpus.path, "-o", tmp_path / "x", "--since", "yesterday").returncode == 2
    assert not (tmp_path / "x").exists()
