"""Scrapy's HTTP/1.1 download handler, keeping what the WARC needs and Scrapy drops: the reason phrase.

Scrapy keeps the protocol version (`response.protocol`) but not the status line's reason phrase; a WARC
response record should hold the status line the server sent, so the phrase is stashed in
`request.meta["newsarchive_reason"]` when the response headers arrive.
"""

from __future__ import annotations

import logging
from typing import TypeVar

from scrapy import Request
from scrapy.core.downloader.handlers import http11
from scrapy.exceptions import ResponseDataLossError
from scrapy.http import Response
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future

logger = logging.getLogger(__name__)

REASON_META = "newsarchive_reason"
_T = TypeVar("_T")


class _PhraseKeepingAgent(http11._ScrapyAgent):
    def _cb_latency(self, result: _T, request: Request, start_time: float) -> _T:
        phrase = getattr(result, "phrase", None)
        if isinstance(phrase, bytes):
            request.meta[REASON_META] = phrase.decode("latin-1")
        return super()._cb_latency(result, request, start_time)


class HTTP11DownloadHandler(http11.HTTP11DownloadHandler):
    """Drop-in for Scrapy's handler (same settings, same behaviour) that records the reason phrase."""

    async def download_request(self, request: Request) -> Response:
        agent = _PhraseKeepingAgent(
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=self._default_maxsize,
            warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(agent.download_request(request))
        except ResponseDataLossError:
            if not self._fail_on_dataloss_warned:
                logger.warning(get_dataloss_msg(request.url))
                self._fail_on_dataloss_warned = True
            raise
