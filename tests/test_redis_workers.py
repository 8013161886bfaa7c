"""Three `scrapy crawl` workers share one crawl through a real redis-server: every article exactly once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsarchive.boilerplate import block_key, site_of
from newsarchive.cli import main
from newsarchive.redis_config import CrawlKeys
from newsarchive.siteserver import serve_folder
from tests.discovery_server import serve_news_site
from tests.helpers import check_warc, read_records, read_sidecars, scrapy_crawl
from tests.redis_helpers import (
    WIDGET,
    RedisServer,
    SlowishHandler,
    generate_site,
    sidecar_rows,
    start_worker,
    wait_all,
)

ARTICLES, MOVED = 210, 5
CRAWL_ID = "three-workers"


@dataclass
class SharedCrawl:
    base_url: str
    paths: list[str]
    archives: list[Path]
    logs: list[str]
    codes: list[int]
    redis: RedisServer


@pytest.fixture(scope="module")
def shared(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> SharedCrawl:
    root = tmp_path_factory.mktemp("three")
    paths = generate_site(root / "site", ARTICLES, MOVED)
    with serve_folder(root / "site", handler=SlowishHandler) as base_url:
        urls_file = root / "urls.txt"
        urls_file.write_text("\n".join(base_url + p for p in paths) + "\n")
        archives = [root / f"worker{i}" for i in range(3)]
        settings = {"NEWSARCHIVE_REDIS_URL": redis_server.url, "NEWSARCHIVE_CRAWL_ID": CRAWL_ID,
                    "NEWSARCHIVE_REDIS_IDLE_SECONDS": "2", "NEWSARCHIVE_REDIS_LEASE_SECONDS": "20"}
        # every worker seeds the same URLs: the shared dupefilter keeps one request each
        workers = [start_worker(a, root / f"w{i}.log", "-a", f"urls_file={urls_file}", settings=settings)
                   for i, a in enumerate(archives)]
        codes = wait_all(workers, timeout=150)
    logs = [(root / f"w{i}.log").read_text(errors="replace") for i in range(3)]
    return SharedCrawl(base_url, paths, archives, logs, codes, redis_server)


def test_workers_end_by_themselves_with_status_zero(shared: SharedCrawl) -> None:
    for code, log in zip(shared.codes, shared.logs, strict=True):
        assert code == 0, log[-3000:]
        assert "joined crawl three-workers" in log
        assert "Crawl three-workers finished: frontier empty, nothing leased" in log or "(finished)" in log


def test_every_article_archived_exactly_once_across_workers(shared: SharedCrawl) -> None:
    rows = sidecar_rows(*shared.archives)
    counts = Counter(row["url"] for row in rows)
    expected = {shared.base_url + p for p in shared.paths}
    assert set(counts) == expected
    assert max(counts.values()) == 1
    moved = [r for r in rows if "/redirect?to=" in r["url"]]
    assert len(moved) == MOVED and all(r["final_url"].endswith(".html") for r in moved)
    per_worker = [len(sidecar_rows(a)) for a in shared.archives]
    assert all(n > 0 for n in per_worker), per_worker  # the work was shared


def test_every_output_passes_the_checker_and_holds_its_captures(shared: SharedCrawl) -> None:
    for archive in shared.archives:
        files = sorted(archive.rglob("*.warc.gz"))
        assert files and not list(archive.rglob("*.open"))
        result = check_warc(*files)
        assert result.returncode == 0, result.stdout + result.stderr
    responses = Counter(r.headers["WARC-Target-URI"] for a in shared.archives for r in read_records(a)
                        if r.type == "response" and not r.headers["WARC-Target-URI"].endswith("/robots.txt"))
    # 215 seeds + 5 redirect targets, each fetched once by exactly one worker
    assert len(responses) == ARTICLES + 2 * MOVED and max(responses.values()) == 1


def test_redis_counts_match_and_status_reports_them(shared: SharedCrawl) -> None:
    client = shared.redis.client()
    keys = CrawlKeys(CRAWL_ID)
    counters = {k.decode(): int(v) for k, v in client.hgetall(keys.counters).items()}
    assert counters["done"] == ARTICLES + 2 * MOVED and counters.get("failed", 0) == 0
    assert client.zcard(keys.queue) == 0 and client.zcard(keys.leases) == 0
    assert client.scard(keys.seen) == ARTICLES + 2 * MOVED
    shared_stats = {k.decode(): int(v) for k, v in client.hgetall(keys.stats).items()}
    assert shared_stats["newsarchive/articles"] == ARTICLES + MOVED

    result = CliRunner().invoke(main, ["workers", "status", "--redis-url", shared.redis.url, "--crawl", CRAWL_ID])
    assert result.exit_code == 0, result.output
    assert f"queued 0  leased 0  done {ARTICLES + 2 * MOVED}  failed 0" in result.output
    assert result.output.count("stopped (finished)") == 3
    assert "pages/s" in result.output


def test_site_boilerplate_is_learned_across_workers(shared: SharedCrawl) -> None:
    rows = sidecar_rows(*shared.archives)
    keys = CrawlKeys(CRAWL_ID)
    site = site_of(shared.base_url + "/")
    client = shared.redis.client()
    assert client.scard(keys.boilerplate(site, "docs")) == ARTICLES + MOVED  # every page counted once
    assert int(client.hget(keys.boilerplate(site, "blocks"), block_key(WIDGET)) or 0) == ARTICLES + MOVED
    # the widget is kept only while the site had fewer than 3 pages in all (not 3 per worker)
    kept = [r["url"] for r in rows if "Loopback Herald briefing" in r["text"]]
    assert len(kept) <= 2, kept
    assert sum(1 for r in rows if "(Report " in r["text"]) == ARTICLES + MOVED


def test_bad_redis_settings_fail_at_start(redis_server: RedisServer, tmp_path: Path, site: str) -> None:
    wrong = redis_server.url.replace(redis_server.password, "wrong-password")
    result = scrapy_crawl("article", tmp_path, "-a", f"url={site}/article-plain.html",
                          settings={"NEWSARCHIVE_REDIS_URL": wrong}, timeout=60)
    assert result.returncode == 1
    assert "NEWSARCHIVE_REDIS_URL: Redis refused" in result.log
    result = scrapy_crawl("article", tmp_path, "-a", f"url={site}/article-plain.html",
                          settings={"NEWSARCHIVE_REDIS_URL": redis_server.url,
                                    "NEWSARCHIVE_REDIS_LEASE_SECONDS": "soon"}, timeout=60)
    assert result.returncode == 1
    assert "NEWSARCHIVE_REDIS_LEASE_SECONDS must be a number" in result.log


def test_a_worker_over_tls_with_a_password(tmp_path: Path, site: str) -> None:
    server = RedisServer(tmp_path / "redis-tls", tls=True).start()
    try:
        urls = ",".join(f"{site}/{p}" for p in ("article-plain.html", "broken.html"))
        result = scrapy_crawl("article", tmp_path / "out", "-a", f"url={urls}",
                              settings={"NEWSARCHIVE_REDIS_URL": server.url, "NEWSARCHIVE_CRAWL_ID": "tls",
                                        "NEWSARCHIVE_REDIS_IDLE_SECONDS": "0.5"}, timeout=90)
        assert result.returncode == 0, result.log[-3000:]
        assert "joined crawl tls" in result.log and server.url.split("?")[0] not in result.log  # no password
        assert len(read_sidecars(tmp_path / "out")) == 2
        assert int(server.client().hget(CrawlKeys("tls").counters, "done") or 0) == 2
    finally:
        server.stop()


def test_crawl_state_is_shared_and_a_next_run_skips_what_any_worker_archived(
        shared: SharedCrawl, tmp_path: Path) -> None:
    """Runs last: it starts the crawl's next run (counters cleared), as the next cron run would."""
    client = shared.redis.client()
    keys = CrawlKeys(CRAWL_ID)
    rows = sidecar_rows(*shared.archives)
    assert all(client.zcard(keys.state("done:") + row["url"]) == 1 for row in rows)
    assert not any((a / "state.sqlite3").exists() for a in shared.archives)  # no local state in a shared crawl
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text("\n".join(shared.base_url + p for p in shared.paths) + "\n")
    result = scrapy_crawl("article", tmp_path / "next", "-a", f"urls_file={urls_file}",
                          settings={"NEWSARCHIVE_REDIS_URL": shared.redis.url, "NEWSARCHIVE_CRAWL_ID": CRAWL_ID,
                                    "NEWSARCHIVE_REDIS_IDLE_SECONDS": "0.5"}, timeout=120)
    assert result.returncode == 0, result.log[-3000:]
    assert "run 2, the previous run had finished" in result.log
    assert not read_sidecars(tmp_path / "next")
    assert result.stats()["newsarchive/skipped/archived"] == ARTICLES + MOVED
    counters = {k.decode(): int(v) for k, v in client.hgetall(keys.counters).items()}
    assert counters["skipped"] == ARTICLES + MOVED and counters.get("failed", 0) == 0


def test_discovery_spiders_work_as_workers_too(redis_server: RedisServer, tmp_path: Path) -> None:
    """Two `scrapy crawl feed` workers find and archive what one feed crawl alone does, once."""
    with serve_news_site() as base:
        args = ["-a", f"url={base}/feed.rss,{base}/atom.xml"]
        alone = scrapy_crawl("feed", tmp_path / "alone", *args, timeout=120)
        settings = {"NEWSARCHIVE_REDIS_URL": redis_server.url, "NEWSARCHIVE_REDIS_IDLE_SECONDS": "1"}
        workers = [start_worker(tmp_path / f"w{i}", tmp_path / f"w{i}.log", *args, settings=settings, spider="feed")
                   for i in range(2)]
        codes = wait_all(workers, timeout=120)
    assert alone.returncode == 0 and codes == [0, 0]
    expected = sorted(row["url"] for row in read_sidecars(tmp_path / "alone"))
    shared = sorted(row["url"] for row in sidecar_rows(tmp_path / "w0", tmp_path / "w1"))
    # (once, in a fresh-clone run, the crawl alone archived the robots.txt-disallowed page: its robots
    # stats say whether robots.txt failed to download, in which case Scrapy allows everything)
    assert expected and shared == expected, {k: v for k, v in alone.stats().items() if k.startswith("robotstxt/")}
    assert all(row["source"] for row in sidecar_rows(tmp_path / "w0", tmp_path / "w1"))  # feed hints travelled
