"""Throughput and memory of a full newsarchive crawl against its limits, in one run (see README).

    bash benchmarks/run.sh [DATA_DIR] [--pages N] [--quick] [--json PATH]

Serves N distinct copies of the aeb pages from Debian's nginx on loopback hosts, measures each stage
alone (fetch, extract, write) to get the stage-sum limit C / (t_fetch + t_extract + t_write), runs plain
trafilatura on all cores, the full `scrapy crawl article`, a fetch-only spider and news-please on the
same URLs, and the peak memory of the crawl's process tree at two sizes; prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import _procs, _site, _stages  # noqa: E402 - after the path is set

NEWSPLEASE_PYTHON = REPO / "benchmarks" / ".venv-newsplease" / "bin" / "python"

# The benchmark crawls loopback hosts it serves itself, so it turns AutoThrottle off (its delays
# would measure the throttle, not the crawler) and lets more requests run at once across the many
# hosts; per-host concurrency, robots.txt and everything else stay at the project's defaults.
CRAWL_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS": "64",
    "LOG_LEVEL": "INFO",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", nargs="?", type=Path, default=REPO.parent / "shared" / "data" / "aeb",
                        help="folder with html/*.html.gz (default: ../shared/data/aeb)")
    parser.add_argument("--pages", type=int, default=5000, help="N pages for the throughput runs")
    parser.add_argument("--stage-pages", type=int, default=905, help="pages for the one-core stage timings")
    parser.add_argument("--newsplease-pages", type=int, default=1000, help="pages given to news-please")
    parser.add_argument("--memory", type=int, nargs=2, default=(1000, 20000), metavar=("SMALL", "LARGE"),
                        help="crawl sizes whose peak memory is compared")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 1,000 pages, memory at 500 and 2,000, news-please on 200")
    parser.add_argument("--skip-newsplease", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "last-run.json")
    parser.add_argument("--workdir", type=Path, default=None, help="where pages and archives go (temp)")
    args = parser.parse_args(argv)
    if args.quick:
        args.pages, args.stage_pages, args.newsplease_pages, args.memory = 1000, 362, 200, (500, 2000)
    return args


def crawl(urls_file: Path, archive: Path, log: Path, *, spider: str = "article",
          memory: bool = False, sample_every: float = 0.2) -> _procs.Run:
    settings = {**CRAWL_SETTINGS, "NEWSARCHIVE_DIR": str(archive)}
    command = [sys.executable, "-m", "scrapy"]
    if spider == "fetchonly":
        command += ["runspider", str(REPO / "benchmarks" / "fetch_spider.py")]
        settings["NEWSARCHIVE_ENABLED"] = "False"
    else:
        command += ["crawl", spider]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    command += ["-a", f"urls_file={urls_file}"]
    result = _procs.run(command, cwd=REPO, log_path=log, sample_memory=memory, sample_every=sample_every)
    if result.returncode != 0 or not result.stats:
        raise SystemExit(f"crawl failed ({result.returncode}), see {log}:\n{result.log[-3000:]}")
    return result


def crawled_pages(stats: dict[str, Any]) -> int:
    return sum(int(stats.get(k, 0)) for k in ("newsarchive/articles", "newsarchive/no_article",
                                              "newsarchive/extract_failed"))


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cores": len(os.sched_getaffinity(0)), "cpu": model, "load_average_at_start": os.getloadavg(),
            "python": platform.python_version(), "kernel": platform.release(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _stop(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # unwinds, so nginx and temp files are cleaned up


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop)
    args = parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="newsarchive-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # nginx's workers may run as another user
    result: dict[str, Any] = {"machine": machine(), "pages": args.pages, "crawl_settings": CRAWL_SETTINGS}
    try:
        return _run(args, cores, work, result)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, cores: int, work: Path, result: dict[str, Any]) -> int:
    def step(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    sources = _site.load_sources(args.data_dir)
    total = max([args.pages, *(() if args.skip_memory else args.memory)])
    port = _site.free_port()
    step(f"building {total} pages from {len(sources)} aeb pages")
    pages = _site.build_pages(sources, work / "sites", total, port)
    hosts = _site.host_count(total, len(sources))

    def urls(n: int) -> Path:
        path = work / f"urls-{n}.txt"
        path.write_text("".join(p.url + "\n" for p in pages[:n]), encoding="utf-8")
        return path

    main_urls = urls(args.pages)
    with _site.nginx(work / "sites", port, hosts, work / "nginx"):
        step(f"nginx serving {hosts} hosts on 127.0.0.2-{1 + hosts}:{port}")
        responses = _stages.fetch_responses(pages[: args.stage_pages])

        extracted: list[Any] = []

        def stages(when: str) -> dict[str, float]:
            """Each stage alone, in ms of one core per page; run before and after the crawls, since
            a shared machine's speed drifts between the phases of one run."""
            step(f"stages alone ({when}): fetch-only spider over {args.pages} pages, then extract and write "
                 f"over {args.stage_pages} pages on one core")
            fetch = crawl(main_urls, work / f"archive-fetch-{when}", work / f"fetch-{when}.log", spider="fetchonly")
            fetched = int(fetch.stats.get("benchmark/fetched", 0))
            t_extract, articles = _stages.measure_extract(responses)
            extracted[:] = articles
            t_write, _ = _stages.measure_write(responses, articles, work / f"archive-stage-{when}")
            shutil.rmtree(work / f"archive-stage-{when}", ignore_errors=True)
            result.setdefault("fetch_only", {"pages": fetched, "seconds": fetch.stats["elapsed_time_seconds"],
                                             "pages_per_s": fetched / fetch.stats["elapsed_time_seconds"]})
            return {"fetch": float(fetch.stats["benchmark/cpu_seconds"]) / fetched * 1000,
                    "extract": t_extract * 1000, "write": t_write * 1000}

        def plain(when: str) -> dict[str, Any]:
            step(f"plain trafilatura.extract on {cores} cores, {args.pages} pages ({when} the full crawl)")
            return _stages.plain_trafilatura(pages[: args.pages], cores)

        # Before and after the full crawl (and the stages around it), averaged: the machine's speed drifts
        # by more than the margins the ratio is judged on, and one side alone would carry that drift.
        plain_before = plain("before")
        # The stages right before and right after the full crawl, the closest the crawl's own minutes
        # allow: the stage-sum ratio is the one most exposed to the machine's drift.
        before = stages("before")

        step(f"full crawl (scrapy crawl article), {args.pages} pages")
        # sampled once a second: five times a second, the sampler took 11 % of a core from the crawl (3 % now)
        full = crawl(main_urls, work / "archive-full", work / "full.log", memory=True, sample_every=1.0)
        n_full = crawled_pages(full.stats)
        elapsed = float(full.stats["elapsed_time_seconds"])
        result["full_crawl"] = {
            "pages": n_full, "articles": full.stats.get("newsarchive/articles", 0),
            "extract_failed": full.stats.get("newsarchive/extract_failed", 0),
            "seconds": elapsed, "pages_per_s": n_full / elapsed,
            "cpu_ms_per_page_all_processes": (full.tree_cpu or 0) / max(n_full, 1) * 1000,
            # from the crawl's own stats: its process from the spider's opening on, and its workers
            "cpu_ms_per_page_crawl_process": float(full.stats.get("newsarchive/cpu/crawl_process_seconds", 0))
            / max(n_full, 1) * 1000,
            "cpu_ms_per_page_extract_workers": float(full.stats.get("newsarchive/extract/worker_cpu_seconds", 0))
            / max(n_full, 1) * 1000,
            # share of the workers' time spent waiting for a page (not fed fast enough)
            "extract_workers_idle_share": float(full.stats.get("newsarchive/extract/worker_idle_seconds", 0))
            / max(1, int(full.stats.get("newsarchive/extract/worker_processes", 1))) / elapsed,
            "peak_in_flight": full.stats.get("newsarchive/extract/peak_in_flight"),
            "peak_pss_mib": full.peak_pss_mib,
        }
        shutil.rmtree(work / "archive-full", ignore_errors=True)
        after = stages("after")
        plain_after = plain("after")
        result["plain_trafilatura"] = {
            **plain_after, "seconds": (plain_before["seconds"] + plain_after["seconds"]) / 2,
            "pages_per_s": (plain_before["pages_per_s"] + plain_after["pages_per_s"]) / 2,
            "pages_per_s_before_and_after": [plain_before["pages_per_s"], plain_after["pages_per_s"]],
        }

        result["stages_ms_before_and_after"] = {"before": before, "after": after}
        result["stages_ms"] = {name: (before[name] + after[name]) / 2 for name in before}
        result["stage_sum_limit_pages_per_s"] = cores / (sum(result["stages_ms"].values()) / 1000)
        result["fetch_only"]["cpu_ms_per_page"] = result["stages_ms"]["fetch"]

        step("gzip levels 1-9 on one copy of each source page")
        distinct = len(sources)
        raw = sum(len(r.body) for r in responses[:distinct])
        sweep = {}
        for level in range(1, 10):
            seconds, size = _stages.measure_write(responses[:distinct], extracted[:distinct],
                                                  work / f"archive-gzip{level}", gzip_level=level)
            sweep[level] = {"write_ms_per_page": seconds * 1000, "bytes_per_page": size / distinct,
                            "ratio_to_raw_html": size / raw}
        result["gzip_levels"] = sweep

        if not args.skip_newsplease:
            n = min(args.newsplease_pages, args.pages)
            step(f"news-please (its own venv, images off), {n} pages")
            result["news_please"] = newsplease(urls(n), n, work)

        if not args.skip_memory:
            result["memory"] = {}
            for n in args.memory:
                step(f"peak memory (PSS of the process tree) of a full crawl of {n} pages")
                run = crawl(urls(n), work / f"archive-mem{n}", work / f"mem{n}.log", memory=True)
                result["memory"][str(n)] = {"peak_pss_mib": run.peak_pss_mib, "pages": crawled_pages(run.stats),
                                            "pages_per_s": crawled_pages(run.stats) / run.stats["elapsed_time_seconds"]}
                shutil.rmtree(work / f"archive-mem{n}", ignore_errors=True)

    result["machine"]["load_average_at_end"] = os.getloadavg()
    result["ratios"] = ratios(result, args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))
    print(f"\nwritten to {args.json}")
    return 0


def newsplease(urls_file: Path, n: int, work: Path) -> dict[str, Any]:
    if not NEWSPLEASE_PYTHON.exists():
        raise SystemExit(f"{NEWSPLEASE_PYTHON} missing: run benchmarks/run.sh (it makes that venv)")
    run = _procs.run([str(NEWSPLEASE_PYTHON), str(REPO / "benchmarks" / "newsplease_run.py"), str(urls_file), str(n)],
                     cwd=work, log_path=work / "newsplease.log")
    last = [line for line in run.log.splitlines() if line.startswith("{")]
    if run.returncode != 0 or not last:
        raise SystemExit(f"news-please failed, see {work / 'newsplease.log'}:\n{run.log[-2000:]}")
    data = json.loads(last[-1])
    data["pages_per_s"] = data["pages"] / data["seconds"]
    return dict(data)


def ratios(result: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    full = result["full_crawl"]["pages_per_s"]
    out: dict[str, Any] = {
        "full_vs_stage_sum_limit": full / result["stage_sum_limit_pages_per_s"],
        "full_vs_plain_trafilatura": full / result["plain_trafilatura"]["pages_per_s"],
        # CPU, not wall clock: what the stages cost alone over what the crawl's processes spent per
        # page (start-up included); unlike the wall-clock ratios it holds on a machine shared with others.
        "stage_sum_cpu_vs_crawl_cpu": sum(result["stages_ms"].values())
        / result["full_crawl"]["cpu_ms_per_page_all_processes"],
    }
    if "news_please" in result:
        out["full_vs_news_please"] = full / result["news_please"]["pages_per_s"]
    if "memory" in result:
        small, large = (result["memory"][str(n)]["peak_pss_mib"] for n in args.memory)
        out["memory_large_vs_small"] = large / small
    return out


def table(result: dict[str, Any]) -> str:
    m, r = result["machine"], result["ratios"]

    def spread(stage: str) -> str:
        both = result.get("stages_ms_before_and_after")
        return f"{both['before'][stage]:.1f} before, {both['after'][stage]:.1f} after" if both else ""

    rows = [
        ("machine", f"{m['cores']} cores, {m['cpu']}",
         "load avg {:.1f} at start, {:.1f} at end".format(m["load_average_at_start"][0], m["load_average_at_end"][0])),
        ("pages (N)", str(result["pages"]), ""),
        ("t_fetch, one core", f"{result['stages_ms']['fetch']:.2f} ms/page",
         "fetch-only spider, CPU; " + spread("fetch")),
        ("t_extract, one core", f"{result['stages_ms']['extract']:.2f} ms/page",
         "extract_page in-process; " + spread("extract")),
        ("t_write, one core", f"{result['stages_ms']['write']:.2f} ms/page",
         "WARC + conversion + sidecar; " + spread("write")),
        ("stage-sum limit", f"{result['stage_sum_limit_pages_per_s']:.1f} pages/s", "C / (sum of the three)"),
        ("plain trafilatura, all cores", f"{result['plain_trafilatura']['pages_per_s']:.1f} pages/s",
         "mean of {:.1f} before and {:.1f} after the full crawl".format(
             *result["plain_trafilatura"]["pages_per_s_before_and_after"])),
        ("fetch-only Scrapy spider", f"{result['fetch_only']['pages_per_s']:.1f} pages/s", ""),
        ("full crawl", f"{result['full_crawl']['pages_per_s']:.1f} pages/s",
         f"{result['full_crawl']['articles']} articles, {result['full_crawl']['extract_failed']} failed"),
        ("full crawl CPU, all processes", f"{result['full_crawl']['cpu_ms_per_page_all_processes']:.1f} ms/page",
         "start-up included"),
        ("  crawl process", f"{result['full_crawl']['cpu_ms_per_page_crawl_process']:.1f} ms/page",
         "alone: t_fetch + t_write = {:.1f}".format(result["stages_ms"]["fetch"] + result["stages_ms"]["write"])),
        ("  extraction workers", f"{result['full_crawl']['cpu_ms_per_page_extract_workers']:.1f} ms/page",
         "alone: t_extract = {:.1f}".format(result["stages_ms"]["extract"])),
        ("  extraction workers waiting", f"{result['full_crawl']['extract_workers_idle_share']:.1%}",
         "of the crawl's time, for their next page"),
    ]
    if "news_please" in result:
        rows.append(("news-please (images off)", f"{result['news_please']['pages_per_s']:.1f} pages/s",
                     f"{result['news_please']['pages']} pages"))
    for n, mem in result.get("memory", {}).items():
        rows.append((f"peak PSS, crawl of {n}", f"{mem['peak_pss_mib']:.0f} MiB", f"{mem['pages_per_s']:.1f} pages/s"))
    rows += [
        ("full / stage-sum limit", f"{r['full_vs_stage_sum_limit']:.2f}", "target >= 0.90"),
        ("full / plain trafilatura", f"{r['full_vs_plain_trafilatura']:.2f}", "target >= 0.80"),
        ("stage-sum CPU / crawl CPU per page", f"{r['stage_sum_cpu_vs_crawl_cpu']:.2f}",
         "plumbing's CPU share, load-independent"),
    ]
    if "full_vs_news_please" in r:
        rows.append(("full / news-please", f"{r['full_vs_news_please']:.1f}", "target >= 5"))
    if "memory_large_vs_small" in r:
        rows.append(("peak memory large / small", f"{r['memory_large_vs_small']:.2f}", "target <= 1.2"))
    width = max(len(a) for a, _, _ in rows)
    vwidth = max(len(b) for _, b, _ in rows)
    return "\n".join(f"{a:<{width}}  {b:>{vwidth}}  {c}".rstrip() for a, b, c in rows)


if __name__ == "__main__":
    sys.exit(main())
