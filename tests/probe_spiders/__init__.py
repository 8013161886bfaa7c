"""Spiders for tests only (loaded with -s SPIDER_MODULES=newsarchive.spiders,tests.probe_spiders)."""
