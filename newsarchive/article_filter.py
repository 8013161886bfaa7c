"""After extraction: keep only the articles the crawl asked for (`-a since=…`, `-a lang=…`).

The page stays archived either way; a dropped article only gets no sidecar row (and no text record).
Dates and languages come from the page first, then from what the feed or sitemap said.
"""

from __future__ import annotations

from datetime import date

from newsarchive.extraction import ExtractedArticle
from newsarchive.items import FetchedPage


def day_of(iso: str | None) -> date | None:
    """The calendar day of an ISO 8601 date or date-time (None when unreadable)."""
    if not iso:
        return None
    try:
        return date.fromisoformat(str(iso)[:10])
    except ValueError:
        return None


def article_language(page: FetchedPage, article: ExtractedArticle) -> str | None:
    """ISO 639-1 code the page declares, else the feed/sitemap's, else the one detected from the text."""
    if article.language_detected:
        raw = page.hints.get("language") or article.language
    else:
        raw = article.language or page.hints.get("language")
    return str(raw).strip().lower().replace("_", "-").split("-")[0] or None if raw else None


def drop_reason(page: FetchedPage, article: ExtractedArticle) -> str | None:
    """Why the article is not wanted (a stats key part), or None to keep it."""
    rules = page.rules
    if rules.since is not None:
        day = day_of(article.date_published) or day_of(page.hints.get("date_published"))
        if day is not None and day < rules.since:
            return "older_than_since"
    if rules.languages:
        language = article_language(page, article)
        if language is None:
            return "language_unknown"
        if language not in rules.languages:
            return "language"
    return None
