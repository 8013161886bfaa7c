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
import statistics
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
    parser.add_argument("--rounds", type=int, default=3,
                        help="full crawls, with the references measured before, between and after them")
    parser.add_argument("--stage-pages", type=int, default=905, help="pages for the one-core stage timings")
    parser.add_argument("--newsplease-pages", type=int, default=1000, help="pages given to news-please")
    parser.add_argument("--memory", type=int, nargs=2, default=(1000, 20000), metavar=("SMALL", "LARGE"),
                        help="crawl sizes whose peak memory is compared")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 1,000 pages, 2 rounds, memory at 500 and 2,000, news-please on 200")
    parser.add_argument("--skip-newsplease", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "last-run.json")
    parser.add_argument("--workdir", type=Path, default=None, help="where pages and archives go (temp)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.quick:
        args.pages, args.stage_pages, args.newsplease_pages, args.memory = 1000, 362, 200, (500, 2000)
        args.rounds = min(args.rounds, 2)
    return args


def crawl(urls_file: Path, archive: Path, log: Path, *, spider: str = "article",
          memory: bool = False, cpu: bool = False, sample_every: float = 0.2) -> _procs.Run:
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
    result = _procs.run(command, cwd=REPO, log_path=log, sample_memory=memory, sample_cpu=cpu,
                        sample_every=sample_every)
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

        def stages(label: str) -> dict[str, Any]:
            """Each stage alone, in ms of one core per page, and the fetch-only spider's pages/s."""
            step(f"stages alone ({label}): fetch-only spider over {args.pages} pages, then extract and write "
                 f"over {args.stage_pages} pages on one core")
            fetch = crawl(main_urls, work / f"archive-fetch-{label}", work / f"fetch-{label}.log", spider="fetchonly")
            shutil.rmtree(work / f"archive-fetch-{label}", ignore_errors=True)
            fetched = int(fetch.stats.get("benchmark/fetched", 0))
            t_extract, articles = _stages.measure_extract(responses)
            extracted[:] = articles
            t_write, _ = _stages.measure_write(responses, articles, work / f"archive-stage-{label}")
            shutil.rmtree(work / f"archive-stage-{label}", ignore_errors=True)
            return {"stages_ms": {"fetch": float(fetch.stats["benchmark/cpu_seconds"]) / fetched * 1000,
                                  "extract": t_extract * 1000, "write": t_write * 1000},
                    "fetch_only_pages_per_s": fetched / float(fetch.stats["elapsed_time_seconds"])}

        def plain(label: str) -> float:
            step(f"plain trafilatura.extract on {cores} cores, {args.pages} pages ({label})")
            return float(_stages.plain_trafilatura(pages[: args.pages], cores)["pages_per_s"])

        def between(index: int) -> dict[str, Any]:
            """The references measured between two full crawls, in alternating order, so that every
            crawl has each kind of reference right beside it on one side or the other."""
            label = "before the first crawl" if index == 0 else f"after crawl {index}"
            if index % 2 == 0:
                plain_pps = plain(label)
                return {"plain_pages_per_s": plain_pps, **stages(f"checkpoint-{index}")}
            stage_figures = stages(f"checkpoint-{index}")
            return {**stage_figures, "plain_pages_per_s": plain(label)}

        # The machine's speed drifts by more than the targets' margins, within minutes (a third, on
        # ours). So the full crawl runs several times, with the references measured before, between
        # and after; each crawl is compared with the references on both sides of it, and the ratios
        # reported are the median over the rounds.
        checkpoints = [between(0)]
        rounds = []
        for index in range(1, args.rounds + 1):
            step(f"full crawl {index} of {args.rounds} (scrapy crawl article), {args.pages} pages")
            # its tree's CPU sampled once a second, its memory not (a PSS sample costs a crawl 27 ms of
            # CPU; the memory crawls below measure memory)
            full = crawl(main_urls, work / "archive-full", work / f"full-{index}.log", cpu=True, sample_every=1.0)
            shutil.rmtree(work / "archive-full", ignore_errors=True)
            checkpoints.append(between(index))
            rounds.append(compare_round(full_crawl_figures(full), checkpoints[-2], checkpoints[-1], cores))
        result["checkpoints"] = checkpoints
        result["rounds"] = rounds

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


def full_crawl_figures(full: _procs.Run) -> dict[str, Any]:
    """What one full crawl did: pages/s from Scrapy's elapsed time, and CPU per page by process."""
    n_full = crawled_pages(full.stats)
    elapsed = float(full.stats["elapsed_time_seconds"])
    return {
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
    }


STAGES = ("fetch", "extract", "write")


def compare_round(full: dict[str, Any], before: dict[str, Any], after: dict[str, Any], cores: int) -> dict[str, Any]:
    """One full crawl against the references measured right before and right after it (their means)."""
    stage_ms = {name: (before["stages_ms"][name] + after["stages_ms"][name]) / 2 for name in STAGES}
    limit = cores / (sum(stage_ms.values()) / 1000)
    plain_pps = (before["plain_pages_per_s"] + after["plain_pages_per_s"]) / 2
    return {
        "full_crawl": full, "stages_ms": stage_ms, "stage_sum_limit_pages_per_s": limit,
        "plain_trafilatura_pages_per_s": plain_pps,
        # how much slower extraction alone was after the crawl than before it: the drift the round saw
        "extract_drift": after["stages_ms"]["extract"] / before["stages_ms"]["extract"] - 1,
        "full_vs_stage_sum_limit": full["pages_per_s"] / limit,
        "full_vs_plain_trafilatura": full["pages_per_s"] / plain_pps,
        # CPU, not wall clock: what the stages cost alone over what the crawl's processes spent per
        # page (start-up included); unlike the wall-clock ratios it holds on a machine shared with others.
        "stage_sum_cpu_vs_crawl_cpu": sum(stage_ms.values()) / full["cpu_ms_per_page_all_processes"],
    }


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


ROUND_RATIOS = ("full_vs_stage_sum_limit", "full_vs_plain_trafilatura", "stage_sum_cpu_vs_crawl_cpu")


def ratios(result: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The medians over the rounds of each round's ratios (and every round's, under per_round)."""
    rounds = result["rounds"]
    out: dict[str, Any] = {name: statistics.median(r[name] for r in rounds) for name in ROUND_RATIOS}
    out["per_round"] = {name: [r[name] for r in rounds] for name in ROUND_RATIOS}
    if "news_please" in result:
        full = statistics.median(r["full_crawl"]["pages_per_s"] for r in rounds)
        out["full_vs_news_please"] = full / result["news_please"]["pages_per_s"]
    if "memory" in result:
        small, large = (result["memory"][str(n)]["peak_pss_mib"] for n in args.memory)
        out["memory_large_vs_small"] = large / small
    return out


def table(result: dict[str, Any]) -> str:
    """Every round in a column, with the median where the targets are judged; then the rest."""
    m, r, rounds = result["machine"], result["ratios"], result["rounds"]

    def per_round(label: str, value: Any, median: str = "", note: str = "") -> list[str]:
        return [label, *(value(x) for x in rounds), median, note]

    def full(key: str) -> Any:
        return lambda x: x["full_crawl"][key]

    rows = [
        ["", *(f"round {i}" for i in range(1, len(rounds) + 1)), "median", ""],
        per_round("t_fetch / t_extract / t_write, ms", lambda x: "{fetch:.1f} / {extract:.1f} / {write:.1f}".format(
            **x["stages_ms"]), note="one core, CPU a page; means of before and after"),
        per_round("  extraction alone, after vs before", lambda x: f"{x['extract_drift']:+.0%}",
                  note="the machine's drift over the round"),
        per_round("stage-sum limit, pages/s", lambda x: f"{x['stage_sum_limit_pages_per_s']:.1f}",
                  note="C / (sum of the three)"),
        per_round("plain trafilatura, pages/s", lambda x: f"{x['plain_trafilatura_pages_per_s']:.1f}",
                  note=f"all cores, {result['pages']} pages, mean of before and after"),
        per_round("full crawl, pages/s", lambda x: f"{full('pages_per_s')(x):.1f}",
                  f"{statistics.median(x['full_crawl']['pages_per_s'] for x in rounds):.1f}",
                  f"scrapy crawl article, {result['pages']} pages"),
        per_round("  articles / failed", lambda x: f"{full('articles')(x)} / {full('extract_failed')(x)}"),
        per_round("  CPU a page: all / crawl proc / workers", lambda x: "{:.1f} / {:.1f} / {:.1f}".format(
            full("cpu_ms_per_page_all_processes")(x), full("cpu_ms_per_page_crawl_process")(x),
            full("cpu_ms_per_page_extract_workers")(x)), note="ms, start-up included"),
        per_round("  crawl process over fetch + write", lambda x: "{:.1f} ms".format(
            x["full_crawl"]["cpu_ms_per_page_crawl_process"] - x["stages_ms"]["fetch"] - x["stages_ms"]["write"]),
                  note="the plumbing, in the crawl process"),
        per_round("  extraction workers waiting", lambda x: f"{full('extract_workers_idle_share')(x):.1%}",
                  note="of the crawl's time, for their next page"),
        per_round("full / stage-sum limit", lambda x: f"{x['full_vs_stage_sum_limit']:.2f}",
                  f"{r['full_vs_stage_sum_limit']:.2f}", "target >= 0.90"),
        per_round("full / plain trafilatura", lambda x: f"{x['full_vs_plain_trafilatura']:.2f}",
                  f"{r['full_vs_plain_trafilatura']:.2f}", "target >= 0.80"),
        per_round("stage-sum CPU / crawl CPU a page", lambda x: f"{x['stage_sum_cpu_vs_crawl_cpu']:.2f}",
                  f"{r['stage_sum_cpu_vs_crawl_cpu']:.2f}", "plumbing's CPU share, load-independent"),
    ]
    fetch_only = statistics.median(c["fetch_only_pages_per_s"] for c in result["checkpoints"])
    rest = [
        ("machine", f"{m['cores']} cores, {m['cpu']}",
         "load avg {:.1f} at start, {:.1f} at end".format(m["load_average_at_start"][0], m["load_average_at_end"][0])),
        ("fetch-only Scrapy spider", f"{fetch_only:.1f} pages/s", "median of its runs"),
    ]
    if "news_please" in result:
        rest.append(("news-please (images off)", f"{result['news_please']['pages_per_s']:.1f} pages/s",
                     f"{result['news_please']['pages']} pages"))
    if "full_vs_news_please" in r:
        rest.append(("full / news-please", f"{r['full_vs_news_please']:.1f}", "median full crawl; target >= 5"))
    for n, mem in result.get("memory", {}).items():
        rest.append((f"peak PSS, crawl of {n}", f"{mem['peak_pss_mib']:.0f} MiB", f"{mem['pages_per_s']:.1f} pages/s"))
    if "memory_large_vs_small" in r:
        rest.append(("peak memory large / small", f"{r['memory_large_vs_small']:.2f}", "target <= 1.2"))
    return _columns(rows) + "\n\n" + _columns([list(row) for row in rest])


def _columns(rows: list[list[str]]) -> str:
    """Left-aligned labels and notes, right-aligned values."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        values = (cell.rjust(width) for cell, width in zip(row[1:-1], widths[1:-1], strict=True))
        cells = [row[0].ljust(widths[0]), *values, row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
