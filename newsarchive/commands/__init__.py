"""Scrapy commands that newsarchive overrides (COMMANDS_MODULE)."""
