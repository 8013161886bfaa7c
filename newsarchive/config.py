"""The NEWSARCHIVE_* settings, parsed and checked once into a frozen dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings

GIB = 1024**3
# zlib level of WARC records: measured on the aeb pages (README, "Throughput"), level 4 writes 5 % more
# bytes than level 9 in two thirds of level 6's time and half of level 9's; higher levels buy little.
DEFAULT_GZIP_LEVEL = 4
# Pages handed to the extraction workers at once, per worker. The event loop feeds them, and it can be
# busy for a few hundred milliseconds when dozens of responses arrive together (each is written to the
# WARC first); pages already in the workers' queue keep them going meanwhile. Measured on 2,000-page
# crawls (README, "Throughput"): with Scrapy's scraper byte cap raised too (settings.py), 8 per worker
# halved the time workers waited for pages, against 3; either change alone did little.
EXTRACT_QUEUE_PER_WORKER = 8


class SettingError(ValueError):
    """A NEWSARCHIVE_* setting has a value that cannot work; the message names the setting."""


def positive_int_setting(settings: BaseSettings, name: str, default: int) -> int:
    raw = settings.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise SettingError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise SettingError(f"{name} must be > 0, got {value}")
    return value


def float_setting(settings: BaseSettings, name: str, default: float, minimum: float = 0.0) -> float:
    raw = settings.get(name, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise SettingError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingError(f"{name} must be >= {minimum}, got {value}")
    return value


TEST_PAUSE_POINTS = ("writes", "torn", "sidecar")


def _test_pause(settings: BaseSettings) -> tuple[str, int] | None:
    """NEWSARCHIVE_TEST_PAUSE_AFTER=POINT:N, a testing hook (see newsarchive/testing.py)."""
    raw = str(settings.get("NEWSARCHIVE_TEST_PAUSE_AFTER", "") or "").strip()
    if not raw:
        return None
    point, _, count = raw.partition(":")
    if point not in TEST_PAUSE_POINTS or not count.isdigit() or int(count) < 1:
        raise SettingError(
            f"NEWSARCHIVE_TEST_PAUSE_AFTER must be POINT:N with POINT one of {', '.join(TEST_PAUSE_POINTS)}"
            f" and N >= 1, got {raw!r}"
        )
    return point, int(count)


@dataclass(frozen=True)
class ArchiveConfig:
    """Where and how the archive is written."""

    directory: Path
    prefix: str
    warc_max_bytes: int
    gzip_level: int
    operator: str
    description: str
    extract_workers: int
    extract_timeout: float
    extract_queue: int
    fsync: bool
    extract_test_faults: tuple[tuple[str, str], ...] = ()
    lock_wait: float = 0.0
    test_pause: tuple[str, int] | None = None

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ArchiveConfig:
        raw_level = settings.get("NEWSARCHIVE_GZIP_LEVEL", DEFAULT_GZIP_LEVEL)
        try:
            level = int(raw_level)
        except (TypeError, ValueError):
            raise SettingError(f"NEWSARCHIVE_GZIP_LEVEL must be a whole number 1..9, got {raw_level!r}") from None
        if not 1 <= level <= 9:
            raise SettingError(f"NEWSARCHIVE_GZIP_LEVEL must be 1..9, got {level}")
        prefix = str(settings.get("NEWSARCHIVE_WARC_PREFIX", "newsarchive"))
        if not prefix or any(c in prefix for c in "/\\ \t"):
            raise SettingError(f"NEWSARCHIVE_WARC_PREFIX must be a plain file-name part, got {prefix!r}")
        workers = settings.get("NEWSARCHIVE_EXTRACT_WORKERS", 0)
        try:
            n_workers = int(workers) or (os.cpu_count() or 1)
        except (TypeError, ValueError):
            raise SettingError(f"NEWSARCHIVE_EXTRACT_WORKERS must be a whole number, got {workers!r}") from None
        if n_workers < 0:
            raise SettingError(f"NEWSARCHIVE_EXTRACT_WORKERS must be >= 0, got {workers!r}")
        queue_default = EXTRACT_QUEUE_PER_WORKER * n_workers
        return cls(
            directory=Path(str(settings.get("NEWSARCHIVE_DIR", "archives"))).expanduser(),
            prefix=prefix,
            warc_max_bytes=positive_int_setting(settings, "NEWSARCHIVE_WARC_MAX_BYTES", GIB),
            gzip_level=level,
            operator=str(settings.get("NEWSARCHIVE_OPERATOR", "")),
            description=str(settings.get("NEWSARCHIVE_DESCRIPTION", "")),
            extract_workers=n_workers,
            extract_timeout=float_setting(settings, "NEWSARCHIVE_EXTRACT_TIMEOUT", 60.0, minimum=0.1),
            extract_queue=positive_int_setting(settings, "NEWSARCHIVE_EXTRACT_QUEUE", queue_default),
            fsync=settings.getbool("NEWSARCHIVE_FSYNC", False),
            extract_test_faults=_test_faults(settings),
            lock_wait=float_setting(settings, "NEWSARCHIVE_LOCK_WAIT", 0.0),
            test_pause=_test_pause(settings),
        )


def _test_faults(settings: BaseSettings) -> tuple[tuple[str, str], ...]:
    """NEWSARCHIVE_TEST_EXTRACT_FAULTS, a testing hook: `kind:marker,...` with kind hang, crash or slow."""
    from newsarchive.extract_pool import FAULT_KINDS

    faults = []
    for part in settings.getlist("NEWSARCHIVE_TEST_EXTRACT_FAULTS"):
        kind, _, marker = part.partition(":")
        if kind not in FAULT_KINDS or not marker:
            raise SettingError(
                f"NEWSARCHIVE_TEST_EXTRACT_FAULTS entries must be KIND:MARKER with KIND one of "
                f"{', '.join(FAULT_KINDS)}, got {part!r}"
            )
        faults.append((kind, marker))
    return tuple(faults)


def setting_names(settings: BaseSettings) -> dict[str, Any]:
    """The NEWSARCHIVE_* settings in force, for the warcinfo record and logs."""
    return {k: v for k, v in settings.items() if k.startswith("NEWSARCHIVE_")}
