"""`newsarchive stats`: what an archive holds, per site, day and language, and what failed.

Articles come from the sidecars (latest capture of each URL, as in `export`); failures and run
counts from the crawl stats files (`*.stats.json`, one per run beside the WARCs) when there are any. Memory:
counters only. Renders as rich tables (for the CLI to print) and as one self-contained HTML file with
inline SVG charts (no scripts, no external files).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from newsarchive.corpus_rows import Progress, parse_day
from newsarchive.export import ExportOptions, iter_corpus

logger = logging.getLogger(__name__)

FAILURE_PREFIXES = ("newsarchive/failed/", "newsarchive/extract_failed", "newsarchive/skipped/bad_url")
RUN_COUNTS = ("fetched", "new", "changed", "unchanged", "failed", "skipped", "articles")


@dataclass
class SiteStats:
    articles: int = 0
    words: int = 0
    languages: Counter[str] = field(default_factory=Counter)


@dataclass
class ArchiveStats:
    articles: int = 0
    words: int = 0
    sites: dict[str, SiteStats] = field(default_factory=dict)
    days: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    runs: Counter[str] = field(default_factory=Counter)  # the runs' `counts`, summed
    stats_files: int = 0


def gather_stats(root: Path, progress: Progress | None = None) -> ArchiveStats:
    """Counts over the archive under `root` (two streaming passes over the sidecars)."""
    if not root.is_dir():
        raise FileNotFoundError(f"no archive folder at {root}")
    stats = ArchiveStats()
    for row in iter_corpus(root, ExportOptions(), progress):
        words = int(row.get("word_count") or 0)
        language = row.get("language") or "unknown"
        site = stats.sites.setdefault(row["site"] or "unknown", SiteStats())
        site.articles += 1
        site.words += words
        site.languages[language] += 1
        day = parse_day(row.get("date_published"))
        stats.days[day.isoformat() if day else "unknown"] += 1
        stats.languages[language] += 1
        stats.articles += 1
        stats.words += words
    for path in sorted(root.rglob("*.stats.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logger.warning("%s: unreadable crawl stats skipped (%s)", path, exc)
            continue
        stats.stats_files += 1
        counts = data.get("counts") if isinstance(data, dict) else None
        if isinstance(counts, dict):
            stats.runs.update({k: int(v) for k, v in counts.items() if k in RUN_COUNTS and isinstance(v, int)})
        for key, value in _numbers(data.get("stats", data) if isinstance(data, dict) else data):
            if key.startswith(FAILURE_PREFIXES):
                stats.failures[key.removeprefix("newsarchive/")] += value
    return stats


def _numbers(data: Any) -> list[tuple[str, int]]:
    """(key, number) pairs anywhere in a stats file, whether flat or nested under e.g. "stats"."""
    found: list[tuple[str, int]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                found.append((str(key), int(value)))
            else:
                found.extend(_numbers(value))
    elif isinstance(data, list):
        for item in data:
            found.extend(_numbers(item))
    return found


def tables(stats: ArchiveStats) -> list[Table]:
    """The terminal view: sites, days, languages, and failures when there are crawl stats files."""
    sites = Table(title=f"{stats.articles} articles, {stats.words} words, {len(stats.sites)} sites")
    for name, justify in (("site", "left"), ("articles", "right"), ("words", "right"),
                          ("mean words", "right"), ("languages", "left")):
        sites.add_column(name, justify=justify)  # type: ignore[arg-type]
    for name, site in sorted(stats.sites.items(), key=lambda item: (-item[1].articles, item[0])):
        sites.add_row(name, str(site.articles), str(site.words), str(site.words // max(site.articles, 1)),
                      ", ".join(f"{lang} {n}" for lang, n in site.languages.most_common()))
    days = Table(title="Articles per publication day")
    days.add_column("day")
    days.add_column("articles", justify="right")
    for day, count in sorted(stats.days.items()):
        days.add_row(day, str(count))
    languages = Table(title="Languages")
    languages.add_column("language")
    languages.add_column("articles", justify="right")
    for language, count in stats.languages.most_common():
        languages.add_row(language, str(count))
    if not stats.stats_files:
        return [sites, days, languages]
    runs = Table(title=f"Crawl runs ({stats.stats_files} stats files)")
    runs.add_column("count")
    runs.add_column("total", justify="right")
    for name in RUN_COUNTS:
        if name in stats.runs:
            runs.add_row(name, str(stats.runs[name]))
    failures = Table(title="Failures by kind")
    failures.add_column("kind")
    failures.add_column("count", justify="right")
    for kind, count in sorted(stats.failures.items()):
        failures.add_row(kind, str(count))
    return [sites, days, languages, runs, failures]
