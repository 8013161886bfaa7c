"""Scrapy settings for newsarchive; every NEWSARCHIVE_* setting is documented in the README."""

from newsarchive import __version__

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["newsarchive.spiders"]
NEWSPIDER_MODULE = "newsarchive.spiders"
COMMANDS_MODULE = "newsarchive.commands"

# Politeness: obey robots.txt, adapt the pace to the server, identify ourselves.
ROBOTSTXT_OBEY = True
USER_AGENT = f"newsarchive/{__version__} (+https://github.com/newsarchive/newsarchive)"
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Items per response handled at once: an article page yields one; Scrapy's default (100) starts 100
# asyncio tasks for every response (the largest item of the event loop's own work in a profile).
CONCURRENT_ITEMS = 16
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10

# Archive what the server sent: keep truncated bodies (flagged WARC-Truncated), refuse giant ones.
DOWNLOAD_FAIL_ON_DATALOSS = False
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
DOWNLOAD_HANDLERS = {
    "http": "newsarchive.http_handler.HTTP11DownloadHandler",
    "https": "newsarchive.http_handler.HTTP11DownloadHandler",
}

EXTENSIONS = {"newsarchive.archiver.WARCArchiver": 0}
ITEM_PIPELINES = {"newsarchive.pipelines.ArticlePipeline": 300}

TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

NEWSARCHIVE_DIR = "archives"
