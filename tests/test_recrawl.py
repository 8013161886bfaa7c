"""Three runs in a row on one archive: the second skips what it has, the third records what changed."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsarchive.warc_writer import REVISIT_PROFILE
from tests.helpers import REPO, Record, check_warc, read_records, read_sidecars
from tests.recrawl_site import article_html, crawl_command, paragraphs, served, versioned_site

ARTICLES = {"cond/changes.html": "harbour", "plain/headers.html": "library", "cond/same.html": "orchard"}


def run(base: str, archive: Path, *args: str) -> dict[str, Any]:
    command = crawl_command("recrawl_probe", archive, "-a", f"index={base}/index.html", *args)
    before = set(archive.rglob("*"))
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False, timeout=120)
    stats_files = [p for p in set(archive.rglob("*.stats.json")) - before]
    assert len(stats_files) == 1, proc.stderr[-3000:]
    return {"returncode": proc.returncode, "log": proc.stderr,
            "stats": json.loads(stats_files[0].read_text()),
            "new_files": sorted(p for p in set(archive.rglob("*.warc.gz")) - before)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    site = tmp_path_factory.mktemp("site")
    archive = tmp_path_factory.mktemp("archive")
    (site / "cond").mkdir()
    (site / "plain").mkdir()
    for path, topic in ARTICLES.items():
        (site / path).write_text(article_html(topic.title() + " news", paragraphs(topic)))
    (site / "index.html").write_text(
        "<html><body>" + "".join(f"<a href='/{p}'>{p}</a>" for p in ARTICLES) + "</body></html>")
    old = time.time() - 3600
    for path in ARTICLES:
        os.utime(site / path, (old, old))
    with versioned_site(site) as base:
        first = run(base, archive)
        first["served"] = served(site)
        second = run(base, archive)
        second["served"] = served(site)
        # One article's text changes; the other two keep their text, one of them gets a new header only.
        (site / "cond/changes.html").write_text(article_html("Harbour news", paragraphs("harbour", 2)))
        (site / "edition.txt").write_text("2")
        third = run(base, archive, "-a", "recrawl=0")
        third["served"] = served(site)
        yield {"base": base, "archive": archive, "runs": [first, second, third]}


def records_in(files: list[Path]) -> list[Record]:
    return [r for r in read_records(files[0].parent.parent) if r.file in files] if files else []


def test_first_run_archives_every_article(runs: dict[str, Any]) -> None:
    first = runs["runs"][0]
    assert first["returncode"] == 0, first["log"][-3000:]
    assert first["stats"]["counts"] | {"fetched": 0} == {
        "fetched": 0, "new": 3, "changed": 0, "unchanged": 0, "failed": 0, "skipped": 0, "articles": 3}
    assert {row["url"].removeprefix(runs["base"] + "/") for row in read_sidecars(runs["archive"])} == set(ARTICLES)


def test_second_run_fetches_only_discovery_and_archives_nothing_new(runs: dict[str, Any]) -> None:
    second = runs["runs"][1]
    assert second["returncode"] == 0, second["log"][-3000:]
    assert sorted(path for path, *_ in second["served"]) == ["/index.html", "/robots.txt"]
    counts = second["stats"]["counts"]
    assert counts["skipped"] == 3 and counts["new"] == counts["changed"] == counts["unchanged"] == 0
    records = records_in(second["new_files"])
    assert {r.headers["WARC-Target-URI"].rsplit("/", 1)[-1] for r in records if r.type == "response"} == {
        "index.html", "robots.txt"}
    assert not [r for r in records if r.type in ("revisit", "conversion")]


def test_third_run_archives_one_new_capture_and_revisits_the_rest(runs: dict[str, Any]) -> None:
    third, base = runs["runs"][2], runs["base"]
    assert third["returncode"] == 0, third["log"][-3000:]
    counts = third["stats"]["counts"]
    assert (counts["changed"], counts["unchanged"], counts["new"], counts["skipped"]) == (1, 2, 0, 0)
    served_by_path = {path: (etag, since) for path, etag, since in third["served"]}
    assert served_by_path["/cond/same.html"][0].startswith('"')  # If-None-Match sent
    assert served_by_path["/cond/changes.html"][1].endswith("GMT")  # If-Modified-Since sent
    records = records_in(third["new_files"])
    articles = {base + "/" + p for p in ARTICLES}
    new = [r for r in records if r.type == "response" and r.headers["WARC-Target-URI"] in articles]
    assert [r.headers["WARC-Target-URI"] for r in new] == [base + "/cond/changes.html"]
    revisits = {r.headers["WARC-Target-URI"]: r for r in records if r.type == "revisit"}
    assert set(revisits) == {base + "/plain/headers.html", base + "/cond/same.html"}
    first_records = {r.headers["WARC-Target-URI"]: r for r in records_in(runs["runs"][0]["new_files"])
                     if r.type == "response"}
    for url, revisit in revisits.items():
        original = first_records[url]
        assert revisit.headers["WARC-Profile"] == REVISIT_PROFILE
        assert revisit.headers["WARC-Refers-To-Target-URI"] == url
        assert revisit.headers["WARC-Refers-To-Date"] == original.headers["WARC-Date"]
        assert revisit.headers["WARC-Refers-To"] == original.headers["WARC-Record-ID"]
        assert revisit.headers["WARC-Payload-Digest"] == original.headers["WARC-Payload-Digest"]
    assert revisits[base + "/cond/same.html"].http_status.startswith("304")
    assert revisits[base + "/plain/headers.html"].http_status.startswith("200")
    assert ("X-Edition", "2") in revisits[base + "/plain/headers.html"].http_headers


def test_every_article_once_per_distinct_content(runs: dict[str, Any]) -> None:
    rows = read_sidecars(runs["archive"])
    by_url: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_url.setdefault(row["url"].removeprefix(runs["base"] + "/"), []).append(row)
    assert {url: len(found) for url, found in by_url.items()} == {
        "cond/changes.html": 2, "plain/headers.html": 1, "cond/same.html": 1}
    old, new = by_url["cond/changes.html"]
    assert "Edition 1" in old["text"] and "Edition 2" in new["text"]
    assert new["supersedes"] == old["warc_record_id"] and old["supersedes"] is None
    assert len({row["payload_digest"] for row in rows}) == len(rows)


def test_archive_passes_the_independent_checker(runs: dict[str, Any]) -> None:
    result = check_warc(runs["archive"])
    assert result.returncode == 0, result.stdout + result.stderr
