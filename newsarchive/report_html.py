"""The `stats --html` report: one self-contained HTML file, charts drawn as inline SVG.

No scripts and no external files (no CDN), so it opens offline, can be mailed, and archives well.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path

from newsarchive import __version__
from newsarchive.report import ArchiveStats

BAR = 22
LABEL_WIDTH = 200
CHART_WIDTH = 720
COLOURS = ("#3b6ea5", "#c0504d", "#9bbb59", "#8064a2", "#4bacc6", "#f79646")

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{padding:.25em .8em;border-bottom:1px solid #ddd}
td.n,th.n{text-align:right}h2{margin-top:2em}svg text{font-size:13px;font-family:inherit}
"""


def bar_chart(title: str, items: list[tuple[str, int]]) -> str:
    """Horizontal bars, one per (label, value), value printed at the end of the bar."""
    if not items:
        return f"<p>{escape(title)}: none.</p>"
    top = max(value for _, value in items) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 60
    height = BAR * len(items) + 10
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{CHART_WIDTH}" height="{height}" '
              f'viewBox="0 0 {CHART_WIDTH} {height}"><title>{escape(title)}</title>')]
    for i, (label, value) in enumerate(items):
        y = 5 + i * BAR
        width = max(1, round(span * value / top))
        colour = COLOURS[i % len(COLOURS)]
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{width}" height="{BAR - 6}" fill="{colour}">'
                     f'<title>{escape(label)}: {value}</title></rect>'
                     f'<text x="{LABEL_WIDTH + width + 6}" y="{y + 15}">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f'<th class="{"n" if i else ""}">{escape(h)}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="{"n" if isinstance(c, int) else ""}">{escape(str(c))}</td>'
                                    for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(stats: ArchiveStats, archive: str) -> str:
    sites = sorted(stats.sites.items(), key=lambda item: (-item[1].articles, item[0]))
    site_rows: list[list[object]] = [
        [name, s.articles, s.words, s.words // max(s.articles, 1),
         ", ".join(f"{lang} {n}" for lang, n in s.languages.most_common())] for name, s in sites]
    if stats.stats_files:
        failures = (f"<p>{stats.stats_files} crawl runs: "
                    + ", ".join(f"{name} {count}" for name, count in stats.runs.items()) + ".</p>"
                    + (bar_chart("Failures by kind", sorted(stats.failures.items()))
                       if stats.failures else "<p>No failures recorded.</p>"))
    else:
        failures = "<p>No crawl stats files (<code>*.stats.json</code>) in this archive.</p>"
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>newsarchive report: {escape(archive)}</title>
<style>{STYLE}</style></head><body>
<h1>Archive report</h1>
<p><code>{escape(archive)}</code>: <strong>{stats.articles}</strong> articles,
<strong>{stats.words}</strong> words, <strong>{len(stats.sites)}</strong> sites,
<strong>{len(stats.languages)}</strong> languages. Made {made} by newsarchive {__version__}.</p>
<h2>Articles per site</h2>
{bar_chart("Articles per site", [(name, s.articles) for name, s in sites])}
{_table(["site", "articles", "words", "mean words", "languages"], site_rows)}
<h2>Articles per publication day</h2>
{bar_chart("Articles per publication day", sorted(stats.days.items()))}
<h2>Languages</h2>
{bar_chart("Articles per language", stats.languages.most_common())}
<h2>Failures</h2>
{failures}
</body></html>
"""


def write_html(stats: ArchiveStats, archive: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(stats, archive), encoding="utf-8")
    return out
