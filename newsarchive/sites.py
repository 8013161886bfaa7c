"""Site configs: `sites/NAME.toml` in the package and in NEWSARCHIVE_SITES_DIR (which wins on a clash).

A config names what a news crawler needs to know about one site: where its feeds and sitemaps are,
which pages to start following links from and how deep, which URLs to allow or deny, which extra
domains belong to it, and which page elements to drop before extraction. The format is in the README.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

PACKAGE_SITES = Path(__file__).parent / "sites"
KNOWN_KEYS = {"name", "description", "base_url", "feeds", "sitemaps", "start_urls", "max_depth", "allow", "deny",
              "extra_domains", "extract"}
KNOWN_EXTRACT_KEYS = {"drop_selectors"}


class SiteConfigError(ValueError):
    """A site config that cannot work; the message names the file and the key."""


@dataclass(frozen=True)
class SiteConfig:
    name: str
    path: Path
    description: str = ""
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    start_urls: tuple[str, ...] = ()
    max_depth: int = 1
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    extra_domains: tuple[str, ...] = ()
    drop_selectors: tuple[str, ...] = ()

    @property
    def domains(self) -> list[str]:
        """The site's own hosts (from its URLs) and its extra domains, for Scrapy's allowed_domains."""
        hosts = {urlsplit(url).hostname for url in self.feeds + self.sitemaps + self.start_urls}
        return sorted({h for h in hosts if h} | set(self.extra_domains))


def _strings(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SiteConfigError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def load_site(path: Path, base_url: str | None = None) -> SiteConfig:
    """Reads one config; relative URLs are resolved against `base_url` (argument, else the file's)."""
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SiteConfigError(f"{where}: {exc}") from None
    unknown = set(data) - KNOWN_KEYS
    if unknown:
        raise SiteConfigError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(KNOWN_KEYS)})")
    extract = data.get("extract", {})
    if not isinstance(extract, dict) or set(extract) - KNOWN_EXTRACT_KEYS:
        raise SiteConfigError(f"{where}: [extract] may only hold {sorted(KNOWN_EXTRACT_KEYS)}")
    base = base_url or data.get("base_url") or ""

    def urls(key: str) -> tuple[str, ...]:
        resolved = tuple(urljoin(base, url) for url in _strings(data, key, where))
        for url in resolved:
            if urlsplit(url).scheme not in ("http", "https"):
                raise SiteConfigError(f"{where}: {key} entry {url!r} is not an http(s) URL (set base_url?)")
        return resolved

    for key in ("allow", "deny"):
        for pattern in _strings(data, key, where):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise SiteConfigError(f"{where}: {key} pattern {pattern!r}: {exc}") from None
    max_depth = data.get("max_depth", 1)
    if not isinstance(max_depth, int) or max_depth < 0:
        raise SiteConfigError(f"{where}: max_depth must be a whole number >= 0")
    config = SiteConfig(
        name=str(data.get("name") or path.stem),
        path=path,
        description=str(data.get("description", "")),
        feeds=urls("feeds"),
        sitemaps=urls("sitemaps"),
        start_urls=urls("start_urls"),
        max_depth=max_depth,
        allow=_strings(data, "allow", where),
        deny=_strings(data, "deny", where),
        extra_domains=_strings(data, "extra_domains", where),
        drop_selectors=_strings(extract, "drop_selectors", where),
    )
    if not (config.feeds or config.sitemaps or config.start_urls):
        raise SiteConfigError(f"{where}: give at least one of feeds, sitemaps or start_urls")
    return config


def site_files(sites_dir: Path | None) -> dict[str, Path]:
    """NAME -> config file, the package's examples first, then the user's folder (which overrides)."""
    files = {path.stem: path for path in sorted(PACKAGE_SITES.glob("*.toml"))}
    if sites_dir is not None and sites_dir.is_dir():
        files.update({path.stem: path for path in sorted(sites_dir.glob("*.toml"))})
    return files


def find_site(name: str, sites_dir: Path | None, base_url: str | None = None) -> SiteConfig:
    files = site_files(sites_dir)
    if name not in files:
        known = ", ".join(sorted(files)) or "none"
        raise SiteConfigError(f"no site config named {name!r} (configured sites: {known})")
    return load_site(files[name], base_url)


def describe_sites(sites_dir: Path | None) -> list[str]:
    """One line per configured site: name, file and description (or the error that breaks it)."""
    lines = []
    for name, path in sorted(site_files(sites_dir).items()):
        try:
            config = load_site(path)
            about = config.description or ", ".join(config.domains)
        except SiteConfigError as exc:
            about = f"BROKEN: {exc}"
        lines.append(f"{name:<24} {about}  [{path}]")
    return lines
