"""The crawl's spiders: `scrapy list` shows them."""
