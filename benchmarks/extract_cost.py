"""What one page costs the extractor, in-process on one core: plain trafilatura against ours.

Why: extraction is the crawl's most expensive stage; this measures it alone, without nginx or Scrapy,
so a change to ``newsarchive.extraction`` can be judged in seconds (and profiled with ``--profile``).

    .venv/bin/python -m benchmarks.extract_cost [DATA_DIR] [--repeat 3] [--profile 25]

CPU time (``time.process_time``) per page, the least of ``--repeat`` runs per page (a busy machine
only ever adds time), median and mean over the pages of DATA_DIR (an AEB-style directory, default
``../shared/data/aeb``). To compare with another commit, run the same command from its checkout.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from newsarchive.evaluation import DatasetPage, load_dataset

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "aeb"


def _extractors() -> dict[str, Callable[[DatasetPage], Any]]:
    import trafilatura

    from newsarchive.extraction import extract_article

    return {
        "trafilatura.extract default": lambda p: trafilatura.extract(p.html, url=p.url),
        "trafilatura.extract fast=True": lambda p: trafilatura.extract(p.html, url=p.url, fast=True),
        "newsarchive extract_article": lambda p: extract_article(p.html, p.url),
    }


def measure(pages: Sequence[DatasetPage], extract: Callable[[DatasetPage], Any], repeat: int) -> list[float]:
    """Least CPU seconds per page over ``repeat`` runs (after one untimed warm-up run)."""
    for page in pages:
        extract(page)
    best = [float("inf")] * len(pages)
    for _ in range(repeat):
        for index, page in enumerate(pages):
            start = time.process_time()
            extract(page)
            best[index] = min(best[index], time.process_time() - start)
    return best


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="profile ours over the pages and print the N costliest functions")
    args = parser.parse_args(argv)
    pages = load_dataset(args.data)
    extractors = _extractors()
    print(f"{len(pages)} pages from {args.data}; ms of CPU per page, least of {args.repeat} runs")
    print(f"{'extractor':34} {'median':>8} {'mean':>8}")
    for name, extract in extractors.items():
        costs = measure(pages, extract, args.repeat)
        print(f"{name:34} {statistics.median(costs) * 1000:8.2f} {statistics.mean(costs) * 1000:8.2f}")
    if args.profile:
        ours = extractors["newsarchive extract_article"]
        profiler = cProfile.Profile()
        profiler.enable()
        for page in pages:
            ours(page)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
