"""Shared crawls: pages/s with 1, 2 and 3 workers, and what each archived page costs Redis.

    .venv/bin/python -m benchmarks.redis_workers [--pages 300] [--workers 1,2,3] [--json PATH]

Serves a generated news site on 127.0.0.1, starts a real redis-server on a free port, and for each
worker count runs that many `scrapy crawl article` workers of one fresh crawl. It reports:
- pages/s: articles / (last acknowledgement - first lease), i.e. without process start-up and the
  idle wait at the end; and the wall time of the whole run;
- Redis commands per archived page, from INFO commandstats (reset before each run; the benchmark's
  own polling is subtracted), including the commands run inside the Lua scripts;
- Redis CPU (user + sys) per archived page, which bounds how many pages/s one single-threaded Redis
  instance can coordinate; and redis-benchmark's figures for the same server, as a cross-check.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from newsarchive.redis_config import CrawlKeys
from newsarchive.siteserver import QuietHandler, serve_folder
from tests.redis_helpers import RedisServer, generate_site, sidecar_rows, start_worker, wait_all


def _cpu(info: dict[str, Any]) -> float:
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def run_once(server: RedisServer, workdir: Path, urls_file: Path, pages: int, workers: int) -> dict[str, Any]:
    client = server.client()
    crawl_id = f"bench-{workers}-{int(time.time())}"
    keys = CrawlKeys(crawl_id)
    client.config_resetstat()
    cpu_before = _cpu(client.info("cpu"))
    settings = {"NEWSARCHIVE_REDIS_URL": server.url, "NEWSARCHIVE_CRAWL_ID": crawl_id,
                "NEWSARCHIVE_REDIS_IDLE_SECONDS": "1", "LOG_LEVEL": "WARNING"}
    archives = [workdir / f"run{workers}" / f"worker{i}" for i in range(workers)]
    started = time.monotonic()
    procs = [start_worker(a, workdir / f"run{workers}-w{i}.log", "-a", f"urls_file={urls_file}", settings=settings)
             for i, a in enumerate(archives)]
    polls, first_lease, last_done = 0, None, None
    while any(p.poll() is None for p in procs):
        leased, done = client.hmget(keys.counters, "leased", "done")
        polls += 1
        now = time.monotonic()
        if first_lease is None and leased:
            first_lease = now
        if done and int(done) >= pages and last_done is None:
            last_done = now
        time.sleep(0.02)
    codes = wait_all(procs, timeout=60)
    wall = time.monotonic() - started
    cpu = _cpu(client.info("cpu")) - cpu_before
    commandstats = client.info("commandstats")
    calls = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in commandstats.items()}
    usec = {name.removeprefix("cmdstat_"): float(v["usec_per_call"]) for name, v in commandstats.items()}
    calls["hmget"] = calls.get("hmget", 0) - polls  # the benchmark's own polling
    calls.pop("config|resetstat", None)
    calls.pop("info", None)
    calls = {k: v for k, v in calls.items() if v > 0}
    articles = len(sidecar_rows(*archives))
    window = (last_done or time.monotonic()) - (first_lease or started)
    return {
        "workers": workers, "exit_codes": codes, "articles": articles, "pages_per_second": round(articles / window, 1),
        "wall_seconds": round(wall, 1), "redis_calls_per_page": round(sum(calls.values()) / articles, 2),
        "redis_evalsha_per_page": round(calls.get("evalsha", 0) / articles, 2),
        "redis_cpu_ms_per_page": round(1000 * cpu / articles, 3),
        # time inside Redis per script call (its commands included), without network I/O
        "evalsha_usec_per_call": usec.get("evalsha"),
        "redis_exec_ms_per_page": round(calls.get("evalsha", 0) * usec.get("evalsha", 0) / articles / 1000, 3),
        "calls": dict(sorted(calls.items())),
    }


def redis_benchmark(server: RedisServer) -> dict[str, float]:
    """Requests/s of one server for small commands, 50 clients, no pipelining (redis-benchmark)."""
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return {}
    out = subprocess.run([binary, "-h", "127.0.0.1", "-p", str(server.port), "-a", server.password, "-q",
                          "-n", "100000", "-c", "50", "-t", "ping,set,incr,lpush,zadd,hset"],
                         capture_output=True, text=True, timeout=300, check=False).stdout
    figures = {}
    for line in out.replace("\r", "\n").splitlines():
        if "requests per second" in line:
            name, rest = line.split(":", 1)
            figures[name.strip().lower()] = float(rest.split("requests per second")[0].strip())
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--json", type=Path, default=Path(__file__).with_name("redis-workers-last-run.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="redis-bench-") as tmp:
        workdir = Path(tmp)
        paths = generate_site(workdir / "site", args.pages, moved=0)
        server = RedisServer(workdir / "redis").start()
        try:
            with serve_folder(workdir / "site", handler=QuietHandler) as base_url:
                urls_file = workdir / "urls.txt"
                urls_file.write_text("\n".join(base_url + p for p in paths) + "\n")
                runs = []
                for n in (int(x) for x in args.workers.split(",")):
                    result = run_once(server, workdir, urls_file, args.pages, n)
                    runs.append(result)
                    print(f"{n} worker(s): {result['articles']} articles, {result['pages_per_second']} pages/s "
                          f"(wall {result['wall_seconds']} s), {result['redis_calls_per_page']} Redis commands/page "
                          f"({result['redis_evalsha_per_page']} EVALSHA), "
                          f"{result['redis_cpu_ms_per_page']} ms Redis CPU/page, "
                          f"EVALSHA {result['evalsha_usec_per_call']} µs/call", flush=True)
            bench = redis_benchmark(server)
        finally:
            server.stop()
    cpu_ms = max(r["redis_cpu_ms_per_page"] for r in runs)
    calls = max(r["redis_calls_per_page"] for r in runs)
    estimate = {
        "pages_per_second_by_redis_cpu": round(1000 / cpu_ms) if cpu_ms else None,
        "pages_per_second_by_benchmark_ops": round(min(bench.values()) / calls) if bench else None,
    }
    print("redis-benchmark (requests/s):", json.dumps(bench))
    print("one Redis instance could coordinate about", json.dumps(estimate))
    report = {"pages": args.pages, "cores": os.cpu_count(), "load_average": os.getloadavg(), "runs": runs,
              "redis_benchmark": bench, "estimate": estimate, "python": sys.version.split()[0]}
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(r["articles"] == args.pages for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
