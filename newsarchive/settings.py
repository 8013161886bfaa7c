"""Scrapy settings for newsarchive; every NEWSARCHIVE_* setting is documented in the README."""

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["newsarchive.spiders"]
NEWSPIDER_MODULE = "newsarchive.spiders"
COMMANDS_MODULE = "newsarchive.commands"

# Politeness: obey robots.txt, adapt the pace to the server, identify ourselves (USER_AGENT is composed
# from NEWSARCHIVE_CONTACT by the Politeness add-on), wait as long as Retry-After says.
ROBOTSTXT_OBEY = True
ADDONS = {
    "newsarchive.politeness.Politeness": 0,
    # With NEWSARCHIVE_REDIS_URL set, a worker of a shared crawl (README: "Running on several machines").
    "newsarchive.redis_addon.RedisWorkers": 10,
}
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Items per response handled at once: an article page yields one item, and feed, sitemap and section
# pages yield requests, which never wait; Scrapy starts this many asyncio tasks for every response
# (its default of 100 was the largest item of the event loop's own work in a profile).
CONCURRENT_ITEMS = 4
# A response stays in Scrapy's scraper until its item is written, extraction included. Past this many
# bytes of such responses the engine starts no download, then starts CONCURRENT_REQUESTS at once when
# it drops below: stop-and-go bursts during which the extraction workers ran dry. Scrapy's 5 MB is
# 8-30 news pages; the pipeline's own backpressure (NEWSARCHIVE_EXTRACT_QUEUE) bounds pages by count,
# and this stays the bound in bytes.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 32_000_000
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

# The lock (and crash recovery) comes before anything touches the archive; the run's stats come last.
EXTENSIONS = {
    "newsarchive.runlock.ArchiveLock": -100,
    "newsarchive.archiver.WARCArchiver": 0,
    "newsarchive.runstats.RunStats": 100,
    "newsarchive.gctuning.CollectorTuning": 200,
}
# Before robots.txt (100): an archived article is skipped without asking the site anything.
DOWNLOADER_MIDDLEWARES = {
    "newsarchive.recrawl.RecrawlMiddleware": 50,
    # Scrapy's robots.txt middleware, except that a server error on robots.txt means disallow all (RFC 9309)
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "newsarchive.robots.RFC9309RobotsTxtMiddleware": 100,
    "newsarchive.retry_after.RetryAfterMiddleware": 560,  # before RetryMiddleware (550) sees the response
    # Scrapy's, without decoding every page to find that it has no refresh tag
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "newsarchive.meta_refresh.MetaRefreshMiddleware": 580,
}
ITEM_PIPELINES = {"newsarchive.pipelines.ArticlePipeline": 300}

TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's code-running HTTP server (localhost, token in the user's profile folder): off, like the
# telnet console, for unattended cron runs; it also costs each crawl aiohttp's start-up. -s to turn on.
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

NEWSARCHIVE_DIR = "archives"
