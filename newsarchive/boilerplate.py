"""Site-level boilerplate learning: text blocks that recur across many pages of one site.

Why: templates repeat their widgets (player buttons, comment switches, newsletter blurbs,
"Read more" lines) on every page, while an article's own paragraphs occur on that page only.
As in CCNet's paragraph deduplication, we count for each *site* in how many *distinct documents*
each normalised block occurs; a block seen in at least ``min_docs`` documents of the site (and,
optionally, in at least ``min_fraction`` of the site's documents) is boilerplate.

Guarantees that follow from counting documents, not occurrences:

* a block occurring in only one document is never removed, whatever the settings (``min_docs``
  is at least 2), and re-observing a document (re-crawl, re-extraction) counts it once;
* with the default ``min_docs=3`` a paragraph that two articles legitimately quote stays in both.

When it applies during a crawl: the first pages of a site are extracted before any repetition is
known. We therefore *observe* every extracted page (the learning pass always runs and its counts
are persisted in the crawl state, so each cron run starts from what earlier runs learned) and
*filter* only once the site has at least ``min_site_docs`` observed documents. The crawl's
pipeline therefore holds a site's first articles until the site has enough pages (or the crawl
ends) and filters them then (see ``newsarchive.pipelines``); ``newsarchive reextract`` rebuilds
any archive from the WARCs with complete statistics. Offline (evaluation, re-extraction) the
whole set is observed first and filtered in a second pass, so every page benefits.

``BlockStats`` is a pure, serialisable statistics object: keys are short hashes of the
normalised block text, and ``to_dict``/``from_dict`` round-trip plain JSON-able dicts, so any
store (SQLite today, Redis later) can persist it without knowing its internals.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
#: Distinct blocks remembered per site; past it, the rarest are forgotten (see BlockStats._forget_rare).
MAX_BLOCKS_PER_SITE = 4_000
_DIGIT = re.compile(r"\d")
_NON_WORD = re.compile(r"[\W_]+")


def normalize_block(text: str) -> str:
    """Normalise a block like CCNet: NFKC, case-folded, digits as 0, punctuation dropped."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DIGIT.sub("0", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


@functools.lru_cache(maxsize=4096)  # an article's blocks are observed, then filtered at once
def block_key(text: str) -> str | None:
    """Stable 64-bit hex key of a block's normalised text (None for blocks with no words)."""
    norm = normalize_block(text)
    if not norm:
        return None
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=8).hexdigest()


def doc_key(doc_id: str) -> str:
    """Short stable key for a document id (its URL, a WARC record id ...)."""
    return hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).hexdigest()


@functools.lru_cache(maxsize=1024)  # asked several times for each page by the pipeline
def site_of(url: str) -> str:
    """The site a page belongs to: its registered domain, else its host without ``www.``; with an
    explicit non-default port appended (another port is another server, hence another site)."""
    parts = urlsplit(url)
    return _site_of_netloc(parts.scheme, parts.netloc)


@functools.lru_cache(maxsize=4096)
def _site_of_netloc(scheme: str, netloc: str) -> str:
    """site_of for one host (courlan's domain lookup costs ~0.5 ms, and a crawl sees few hosts)."""
    parts = urlsplit(f"{scheme}://{netloc}/")
    try:
        port = parts.port
    except ValueError:
        port = None
    suffix = f":{port}" if port and port != {"http": 80, "https": 443}.get(parts.scheme) else ""
    return _domain_of(f"{scheme}://{netloc}/") + suffix


def _domain_of(url: str) -> str:
    try:
        from courlan import extract_domain

        domain = extract_domain(url)
    except Exception:  # courlan is optional for this module; fall back to the host
        domain = None
    if domain:
        return domain.lower()
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


@dataclass(frozen=True)
class BoilerplateSettings:
    """NEWSARCHIVE_BOILERPLATE_* settings, checked once at start."""

    enabled: bool = True
    min_docs: int = 3
    hold: int = 50
    hold_total: int = 1000

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> BoilerplateSettings:
        from newsarchive.config import SettingError

        values = {}
        for name, minimum in (("MIN_DOCS", 2), ("HOLD", 0), ("HOLD_TOTAL", 0)):
            key = "NEWSARCHIVE_BOILERPLATE_" + name
            raw = settings.get(key, getattr(cls, name.lower()))
            try:
                values[name.lower()] = int(raw)
            except (TypeError, ValueError):
                raise SettingError(f"{key} must be a whole number, got {raw!r}") from None
            if values[name.lower()] < minimum:
                raise SettingError(f"{key} must be >= {minimum}, got {raw!r}")
        try:
            enabled = settings.getbool("NEWSARCHIVE_BOILERPLATE_ENABLED", True)
        except ValueError:
            raise SettingError("NEWSARCHIVE_BOILERPLATE_ENABLED must be true or false") from None
        return cls(enabled=enabled, **values)


@dataclass
class _SiteStats:
    docs: set[str] = field(default_factory=set)
    block_docs: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: Blocks of the documents observed in this process and not saved yet, for store deltas.
    doc_blocks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    saved_docs: set[str] = field(default_factory=set)


class BlockStats:
    """Per-site counts of the distinct documents each text block occurs in."""

    def __init__(self, min_docs: int = 3, min_fraction: float = 0.0, min_site_docs: int | None = None,
                 max_blocks: int = MAX_BLOCKS_PER_SITE):
        if min_docs < 2:
            raise ValueError("min_docs must be at least 2: a block of one document is never boilerplate")
        if not 0.0 <= min_fraction <= 1.0:
            raise ValueError("min_fraction must be between 0 and 1")
        self.min_docs = min_docs
        self.min_fraction = min_fraction
        self.min_site_docs = max(min_site_docs or min_docs, min_docs)
        self.max_blocks = max(max_blocks, 2)
        self.forgotten = 0  # blocks dropped by _forget_rare, for the crawl's stats
        self._sites: dict[str, _SiteStats] = {}

    # -- learning ---------------------------------------------------------------------------
    def observe(self, site: str, doc_id: str, blocks: Iterable[str]) -> bool:
        """Count each distinct block of one document once; False if the document was seen."""
        stats = self._sites.setdefault(site, _SiteStats())
        dkey = doc_key(doc_id)
        if dkey in stats.docs:
            return False
        stats.docs.add(dkey)
        keys = sorted({k for k in map(block_key, blocks) if k})
        stats.doc_blocks[dkey] = tuple(keys)
        for key in keys:
            stats.block_docs[key] += 1
        if len(stats.block_docs) > self.max_blocks:
            self._forget_rare(stats)
        return True

    def _forget_rare(self, stats: _SiteStats) -> None:
        """Lossy counting, so memory does not grow with the pages crawled: forget the blocks seen in
        the fewest documents until half of ``max_blocks`` remain. A template's blocks recur on nearly
        every page and stay; what goes is almost only articles' own paragraphs, one document each,
        which can never be boilerplate. A forgotten block seen again counts from one: the statistics
        can only under-count, so they may keep a block of boilerplate, never remove more text."""
        floor = 1
        while len(stats.block_docs) > self.max_blocks // 2:
            rare = [key for key, docs in stats.block_docs.items() if docs <= floor]
            for key in rare:
                del stats.block_docs[key]
            self.forgotten += len(rare)
            floor += 1

    # -- querying ---------------------------------------------------------------------------
    def unsaved_docs(self, site: str) -> int:
        """Documents of ``site`` observed here whose counts were not taken by ``take_unsaved`` yet."""
        stats = self._sites.get(site)
        return len(stats.doc_blocks) if stats else 0

    def site_docs(self, site: str) -> int:
        """How many distinct documents of ``site`` were observed."""
        stats = self._sites.get(site)
        return len(stats.docs) if stats else 0

    def doc_frequency(self, site: str, block: str) -> int:
        """In how many observed documents of ``site`` the block occurs."""
        stats = self._sites.get(site)
        key = block_key(block)
        if stats is None or key is None:
            return 0
        return stats.block_docs.get(key, 0)

    def is_active(self, site: str) -> bool:
        """True once enough documents of the site were seen for the filter to apply."""
        return self.site_docs(site) >= self.min_site_docs

    def is_boilerplate(self, site: str, block: str) -> bool:
        """True if the block recurs in enough distinct documents of the site."""
        n_docs = self.site_docs(site)
        if n_docs < self.min_site_docs:
            return False
        freq = self.doc_frequency(site, block)
        return freq >= self.min_docs and freq >= self.min_fraction * n_docs

    def filter(self, site: str, blocks: Sequence[str]) -> list[str]:
        """The blocks that are not boilerplate for ``site``, in their order."""
        if not self.is_active(site):
            return list(blocks)
        kept = [b for b in blocks if not self.is_boilerplate(site, b)]
        if len(kept) < len(blocks):
            logger.debug("Removed %d recurring blocks of %s", len(blocks) - len(kept), site)
        return kept

    # -- persistence ------------------------------------------------------------------------
    # As named counters (what CrawlState.add_counts/counts keep per key): "doc:<key>" is 1 for each
    # document seen, "block:<key>" the number of documents a block occurs in. Only additions are
    # ever stored, so several runs (or machines) adding their deltas under one key stay consistent.

    def merge_counts(self, site: str, counts: Mapping[str, int]) -> None:
        """Add counts loaded from a store to ``site`` (documents already seen here are not doubled, as
        long as they were not saved yet: load a site's counts before saving any of its own)."""
        stats = self._sites.setdefault(site, _SiteStats())
        stored_docs = {name[4:] for name in counts if name.startswith("doc:")}
        for name, value in counts.items():
            if name.startswith("block:"):
                stats.block_docs[name[6:]] += int(value)
        # A document seen in this run and in the store: its blocks were just counted twice.
        for dkey in stats.docs & stored_docs:
            for key in stats.doc_blocks.get(dkey, ()):
                if key in stats.block_docs:
                    stats.block_docs[key] -= 1
        stats.docs |= stored_docs
        stats.saved_docs |= stored_docs
        if len(stats.block_docs) > self.max_blocks:
            self._forget_rare(stats)

    def take_unsaved(self, site: str) -> dict[str, int]:
        """The counts to add to the store for ``site``: documents (and their blocks) not stored yet."""
        stats = self._sites.get(site)
        if stats is None:
            return {}
        delta: dict[str, int] = defaultdict(int)
        for dkey in sorted(stats.docs - stats.saved_docs):
            delta["doc:" + dkey] = 1
            for key in stats.doc_blocks.get(dkey, ()):
                delta["block:" + key] += 1
        stats.saved_docs |= stats.docs
        stats.doc_blocks.clear()  # saved: the store has them now, memory need not
        return dict(delta)

    def sites(self) -> list[str]:
        return sorted(self._sites)

    def site_to_dict(self, site: str) -> dict[str, Any]:
        """One site's counts as plain data (what a store keeps per site)."""
        stats = self._sites.get(site, _SiteStats())
        return {"docs": sorted(stats.docs), "blocks": dict(sorted(stats.block_docs.items()))}

    def site_from_dict(self, site: str, data: Mapping[str, Any]) -> None:
        """Replace one site's counts with previously exported plain data."""
        stats = _SiteStats()
        stats.docs.update(data.get("docs", ()))
        for key, count in data.get("blocks", {}).items():
            stats.block_docs[key] = int(count)
        self._sites[site] = stats

    def to_dict(self) -> dict[str, Any]:
        """All counts and settings as a JSON-able dict."""
        return {
            "version": FORMAT_VERSION,
            "min_docs": self.min_docs,
            "min_fraction": self.min_fraction,
            "min_site_docs": self.min_site_docs,
            "sites": {site: self.site_to_dict(site) for site in self.sites()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BlockStats:
        """Rebuild from ``to_dict`` output."""
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported BlockStats format version: {data.get('version')!r}")
        stats = cls(int(data["min_docs"]), float(data["min_fraction"]), int(data["min_site_docs"]))
        for site, site_data in data.get("sites", {}).items():
            stats.site_from_dict(site, site_data)
        return stats


def learn_and_filter(
    pages: Mapping[str, tuple[str, Sequence[str]]], stats: BlockStats | None = None
) -> dict[str, list[str]]:
    """Two-pass offline use: observe every page, then filter each page's blocks.

    ``pages`` maps a doc id to ``(url, blocks)``; returns doc id → kept blocks.
    """
    stats = stats or BlockStats()
    for doc_id, (url, blocks) in pages.items():
        stats.observe(site_of(url), doc_id, blocks)
    return {doc_id: stats.filter(site_of(url), blocks) for doc_id, (url, blocks) in pages.items()}
