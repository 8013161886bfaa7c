"""The crawl state: each URL's captures, so that a run skips, revisits or supersedes what it has.

Behind a small interface (`CrawlState`) so that a shared backend (Redis, for several machines) can
stand in for the embedded SQLite file; no SQL lives outside `SQLiteCrawlState`.

A capture is recorded as soon as its records are in the WARC; an article URL counts as archived only
once it is *done* (its sidecar line written, or nothing to extract), so a run killed in between fetches
it again. Recovery forgets captures whose records were lost, and a URL then falls back to its earlier
completed capture.
"""

from __future__ import annotations

import logging
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urldefrag

logger = logging.getLogger(__name__)

STATE_FILE = "state.sqlite3"


def state_key(url: str) -> str:
    """The form of a URL the state is keyed by (the fragment never reaches the server)."""
    return urldefrag(url)[0]


@dataclass(frozen=True)
class Capture:
    """One response or revisit record of a URL, with what a conditional refetch and a revisit need."""

    url: str  # WARC-Target-URI
    record_id: str
    warc_file: str  # relative to the archive root
    offset: int
    length: int
    warc_date: str
    status: int
    payload_digest: str | None
    etag: str | None = None
    last_modified: str | None = None
    # For a revisit: the response record that holds the payload (None: this record holds it).
    original_record_id: str | None = None
    original_url: str | None = None
    original_date: str | None = None

    @property
    def is_revisit(self) -> bool:
        return self.original_record_id is not None

    @property
    def content_record_id(self) -> str:
        """The response record holding this capture's payload (itself, or what a revisit refers to)."""
        return self.original_record_id or self.record_id

    @property
    def content_url(self) -> str:
        return self.original_url or self.url

    @property
    def content_date(self) -> str:
        return self.original_date or self.warc_date

    @property
    def fetched_at(self) -> datetime:
        return datetime.fromisoformat(self.warc_date.replace("Z", "+00:00")).astimezone(UTC)


class CrawlState(ABC):
    """What the crawl needs to remember between runs; one instance per run, used from the reactor thread."""

    @abstractmethod
    def record_capture(self, capture: Capture) -> None:
        """A response or revisit record of an article URL is in the WARC (not yet done)."""

    @abstractmethod
    def mark_done(self, record_id: str, urls: Iterable[str]) -> None:
        """The article at these URLs is complete as of this capture (a no-op for an unknown capture or
        one already done: completions keep their order)."""

    @abstractmethod
    def archived(self, url: str) -> Capture | None:
        """The capture that most recently completed this URL, or None: fetch it."""

    @abstractmethod
    def captures_in(self, warc_file: str) -> list[Capture]:
        """Every capture recorded in one WARC file (for recovery)."""

    @abstractmethod
    def forget(self, record_ids: Iterable[str]) -> int:
        """Drops captures whose records are gone (and their completions); returns how many."""

    @abstractmethod
    def add_counts(self, key: str, counts: Mapping[str, int]) -> None:
        """Adds to named counters under a key (e.g. a site's boilerplate statistics)."""

    @abstractmethod
    def counts(self, key: str, min_value: int = 1) -> dict[str, int]:
        """The counters under a key (those below ``min_value`` left out)."""

    @abstractmethod
    def close(self) -> None: ...


_CAPTURE_COLUMNS = [f.name for f in fields(Capture)]

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS captures (
    {", ".join(name + (" TEXT PRIMARY KEY" if name == "record_id" else "") for name in _CAPTURE_COLUMNS)}
);
CREATE INDEX IF NOT EXISTS captures_file ON captures (warc_file);
CREATE TABLE IF NOT EXISTS completions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    record_id TEXT NOT NULL REFERENCES captures (record_id) ON DELETE CASCADE,
    done_at TEXT NOT NULL,
    UNIQUE (url, record_id)
);
CREATE INDEX IF NOT EXISTS completions_url ON completions (url, seq);
CREATE TABLE IF NOT EXISTS counts (
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (key, name)
);
"""


class SQLiteCrawlState(CrawlState):
    """The embedded default: one SQLite file in WAL mode beside the archive, no server."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: a killed process loses no commit
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def record_capture(self, capture: Capture) -> None:
        values = asdict(capture)
        values["url"] = state_key(capture.url)
        placeholders = ", ".join(":" + name for name in _CAPTURE_COLUMNS)
        self._db.execute(f"INSERT OR REPLACE INTO captures VALUES ({placeholders})", values)

    def mark_done(self, record_id: str, urls: Iterable[str]) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._transaction():
            for url in dict.fromkeys(state_key(u) for u in urls):
                self._db.execute(
                    "INSERT OR IGNORE INTO completions (url, record_id, done_at) "
                    "SELECT ?, record_id, ? FROM captures WHERE record_id = ?",
                    (url, now, record_id),
                )

    def archived(self, url: str) -> Capture | None:
        row = self._db.execute(
            f"SELECT {', '.join('c.' + n for n in _CAPTURE_COLUMNS)} FROM completions d "
            "JOIN captures c ON c.record_id = d.record_id WHERE d.url = ? ORDER BY d.seq DESC LIMIT 1",
            (state_key(url),),
        ).fetchone()
        return Capture(*row) if row else None

    def captures_in(self, warc_file: str) -> list[Capture]:
        rows = self._db.execute(
            f"SELECT {', '.join(_CAPTURE_COLUMNS)} FROM captures WHERE warc_file = ?", (warc_file,)
        ).fetchall()
        return [Capture(*row) for row in rows]

    def forget(self, record_ids: Iterable[str]) -> int:
        forgotten = 0
        with self._transaction():
            for record_id in record_ids:
                forgotten += self._db.execute("DELETE FROM captures WHERE record_id = ?", (record_id,)).rowcount
        return forgotten

    def add_counts(self, key: str, counts: Mapping[str, int]) -> None:
        with self._transaction():
            self._db.executemany(
                "INSERT INTO counts (key, name, value) VALUES (?, ?, ?) "
                "ON CONFLICT (key, name) DO UPDATE SET value = value + excluded.value",
                ((key, name, int(value)) for name, value in counts.items()),
            )

    def counts(self, key: str, min_value: int = 1) -> dict[str, int]:
        rows = self._db.execute("SELECT name, value FROM counts WHERE key = ? AND value >= ?",
                                (key, min_value)).fetchall()
        return dict(rows)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """The statements inside commit together, or none of them."""
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def open_state(directory: Path) -> CrawlState:
    """The crawl state of an archive folder (the SQLite file in it; Redis can be chosen here later)."""
    return SQLiteCrawlState(directory / STATE_FILE)
