"""Scrapy add-on: the identifying user agent, composed from NEWSARCHIVE_CONTACT before settings freeze.

Site owners who see the crawler in their logs need to know whose it is and how to reach them; the
user agent says `newsarchive/VERSION (+CONTACT)`. An explicit `-s USER_AGENT=…` still wins.
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.settings import SETTINGS_PRIORITIES, Settings

from newsarchive import __version__
from newsarchive.discovery_config import DiscoveryConfig

logger = logging.getLogger(__name__)

PROJECT_URL = "https://github.com/newsarchive/newsarchive"


def user_agent(contact: str) -> str:
    return f"newsarchive/{__version__} (+{contact or PROJECT_URL})"


class Politeness:
    """Sets USER_AGENT from NEWSARCHIVE_CONTACT unless the user set USER_AGENT themselves."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Politeness:
        return cls(crawler)

    def update_settings(self, settings: Settings) -> None:
        contact = DiscoveryConfig.from_settings(settings).contact  # a bad value fails here, at start
        if (settings.getpriority("USER_AGENT") or 0) > SETTINGS_PRIORITIES["addon"]:
            return
        settings.set("USER_AGENT", user_agent(contact), priority="addon")
        if not contact:
            logger.warning(
                "NEWSARCHIVE_CONTACT is not set: the user agent names no one site owners can reach "
                "(set -s NEWSARCHIVE_CONTACT=https://your.site/crawler or mailto:you@example.org)"
            )
