"""The archive of one crawl: its WARC writer and sidecar writer, shared by the components of a crawler."""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING

from newsarchive import __version__
from newsarchive.config import ArchiveConfig
from newsarchive.sidecar import SidecarWriter
from newsarchive.state import CrawlState, open_state
from newsarchive.warc_writer import WARCFileWriter

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

_ATTRIBUTE = "_newsarchive_archive"


class Archive:
    """WARC files and sidecars under NEWSARCHIVE_DIR; one per crawler (see `for_crawler`)."""

    def __init__(self, config: ArchiveConfig, warcinfo: dict[str, str]) -> None:
        self.config = config
        config.directory.mkdir(parents=True, exist_ok=True)
        writer_class, sidecar_class = WARCFileWriter, SidecarWriter
        if config.test_pause:
            from newsarchive.testing import pausing_writers

            writer_class, sidecar_class = pausing_writers(*config.test_pause)
        self.warc = writer_class(
            config.directory,
            prefix=config.prefix,
            max_bytes=config.warc_max_bytes,
            gzip_level=config.gzip_level,
            warcinfo=warcinfo,
            fsync=config.fsync,
        )
        self.sidecars = sidecar_class(config.directory, fsync=config.fsync)
        self.state: CrawlState = open_state(config.directory)
        self.closed = False

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> Archive:
        """The crawler's archive, made on first use, so the extension and the pipeline share it."""
        archive = getattr(crawler, _ATTRIBUTE, None)
        if archive is None:
            settings = crawler.settings
            config = ArchiveConfig.from_settings(settings)
            warcinfo = {
                "software": f"newsarchive/{__version__} (Scrapy, warcio)",
                "hostname": socket.gethostname(),
                "http-header-user-agent": str(settings.get("USER_AGENT", "")),
                "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
                "operator": config.operator,
                "description": config.description,
                "isPartOf": crawler.spidercls.name if crawler.spidercls else "",
            }
            archive = cls(config, {k: v for k, v in warcinfo.items() if v})
            setattr(crawler, _ATTRIBUTE, archive)
        return archive

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.sidecars.close()
            self.warc.close()
            self.state.close()
