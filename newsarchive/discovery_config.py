"""The NEWSARCHIVE_* settings of article discovery and politeness, parsed once into a frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scrapy.settings import BaseSettings

from newsarchive.config import SettingError, _float, _positive_int


def _contact(settings: BaseSettings) -> str:
    contact = str(settings.get("NEWSARCHIVE_CONTACT") or "").strip()
    if contact and not contact.startswith(("http://", "https://", "mailto:")):
        raise SettingError(
            f"NEWSARCHIVE_CONTACT must be an http(s):// or mailto: URL where site owners can reach you, "
            f"got {contact!r}"
        )
    if any(c in contact for c in "()\r\n"):
        raise SettingError(f"NEWSARCHIVE_CONTACT must not contain parentheses or line breaks, got {contact!r}")
    return contact


@dataclass(frozen=True)
class DiscoveryConfig:
    contact: str
    sites_dir: Path | None
    sitemap_max_urls: int
    sitemap_max_depth: int
    article_max_pages: int
    retry_after_max: float

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> DiscoveryConfig:
        sites_dir = str(settings.get("NEWSARCHIVE_SITES_DIR") or "").strip()
        return cls(
            contact=_contact(settings),
            sites_dir=Path(sites_dir).expanduser() if sites_dir else None,
            sitemap_max_urls=_positive_int(settings, "NEWSARCHIVE_SITEMAP_MAX_URLS", 50_000),
            sitemap_max_depth=_positive_int(settings, "NEWSARCHIVE_SITEMAP_MAX_DEPTH", 3),
            article_max_pages=_positive_int(settings, "NEWSARCHIVE_ARTICLE_MAX_PAGES", 10),
            retry_after_max=_float(settings, "NEWSARCHIVE_RETRY_AFTER_MAX", 600.0),
        )
