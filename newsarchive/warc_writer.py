"""WARC 1.1 files, compressed record by record, written as NAME.warc.gz.open and renamed when closed.

The only module that imports warcio's writer. Each record is serialised by warcio and gzipped here as
its own member (so offsets in a CDX index work) at a level chosen by measurement (see README); both
digests are computed once, from bytes already in memory, and handed to warcio so it does not recompute.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

try:  # zlib-ng: the same deflate streams and levels as zlib, in about half the time (README, Throughput)
    from zlib_ng import zlib_ng as deflate
except ImportError:  # pragma: no cover - a platform without its wheels: the standard zlib
    import zlib as deflate  # type: ignore[no-redef]

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
OPEN_SUFFIX = ".open"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def sha1_digest(data: bytes) -> str:
    """A digest in the form WARC tools write: 'sha1:' + base32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def block_digest(head: bytes, body: bytes) -> str:
    """sha1 of HTTP head + body, without building their concatenation (a copy of the whole body)."""
    digest = hashlib.sha1(head)
    digest.update(body)
    return "sha1:" + base64.b32encode(digest.digest()).decode("ascii")


def warc_date(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds, as WARC 1.1 allows."""
    return datetime_to_iso_date(moment.astimezone(UTC).replace(tzinfo=None), use_micros=True)


@dataclass(frozen=True)
class HTTPExchange:
    """One HTTP request and its response, as they went over the wire (body still content-encoded)."""

    url: str
    method: str
    request_target: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    protocol: str
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    ip_address: str | None = None
    truncated: str | None = None


@dataclass(frozen=True)
class RecordLocation:
    """Where a record lives: enough to find it again without scanning (for sidecars and the state)."""

    warc_file: str  # relative to the archive root, final name (without .open)
    record_id: str
    offset: int
    length: int  # bytes of its gzip member in the file
    warc_date: str
    payload_digest: str | None = None


@dataclass
class _OpenFile:
    final_path: Path
    relative: str
    handle: io.FileIO
    size: int = 0
    warcinfo_id: str = ""
    records: int = field(default=0)


class WARCFileWriter:
    """Appends records to the current WARC file, rotating at max_bytes; not thread-safe (one writer a process)."""

    def __init__(
        self,
        root: Path,
        *,
        prefix: str = "newsarchive",
        max_bytes: int = 1024**3,
        gzip_level: int = 6,
        warcinfo: dict[str, str] | None = None,
        fsync: bool = False,
    ) -> None:
        self.root = root
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.gzip_level = gzip_level
        self.warcinfo = dict(warcinfo or {})
        self.fsync = fsync
        self.hostname = socket.gethostname().split(".")[0] or "localhost"
        self._serial = 0
        self._current: _OpenFile | None = None
        self._builder = WARCWriter(None, gzip=False, warc_version=WARC_VERSION)
        self.closed_files: list[Path] = []

    # -- records ------------------------------------------------------------------------------------
    def write_exchange(self, exchange: HTTPExchange) -> tuple[RecordLocation, RecordLocation]:
        """Writes the response and its request in one write; returns (response, request) locations."""
        date = warc_date(exchange.fetched_at)
        response_headers = StatusAndHeaders(
            f"{exchange.status} {exchange.reason}".rstrip(),
            exchange.response_headers,
            protocol=exchange.protocol,
        )
        payload_digest = sha1_digest(exchange.body)
        response_fields = {
            "WARC-Date": date,
            "WARC-Payload-Digest": payload_digest,
            "WARC-Block-Digest": block_digest(self._headers_bytes(response_headers), exchange.body),
        }
        if exchange.ip_address:
            response_fields["WARC-IP-Address"] = exchange.ip_address
        if exchange.truncated:
            response_fields["WARC-Truncated"] = exchange.truncated
        self._make_room(len(exchange.body) + len(exchange.request_body) + 4096)
        response = self._record(exchange.url, "response", exchange.body, response_fields, response_headers)
        response_id = response.rec_headers.get_header("WARC-Record-ID")

        return self._write_pair(exchange, response, response_id, payload_digest, date)

    def write_conversion(self, url: str, text: str, refers_to: RecordLocation) -> RecordLocation:
        """The clean text of a response, as Common Crawl's WET files keep it."""
        body = text.encode("utf-8")
        digest = sha1_digest(body)  # no HTTP head: block and payload are the same bytes
        fields = {
            "WARC-Refers-To": refers_to.record_id,
            "WARC-Block-Digest": digest,
            "WARC-Payload-Digest": digest,
            "Content-Type": "text/plain; charset=utf-8",
        }
        self._make_room(len(body) + 1024)
        record = self._record(url, "conversion", body, fields, None, "text/plain; charset=utf-8")
        return self._write_one(record, body_digest=fields["WARC-Payload-Digest"])

    def write_revisit(
        self,
        exchange: HTTPExchange,
        payload_digest: str,
        refers_to_uri: str,
        refers_to_date: str,
        refers_to_id: str | None = None,
    ) -> tuple[RecordLocation, RecordLocation]:
        """A revisit (identical payload): headers of the new response only, pointing at the original."""
        date = warc_date(exchange.fetched_at)
        headers = StatusAndHeaders(
            f"{exchange.status} {exchange.reason}".rstrip(), exchange.response_headers, protocol=exchange.protocol
        )
        fields = {
            "WARC-Date": date,
            "WARC-Profile": REVISIT_PROFILE,
            "WARC-Refers-To-Target-URI": refers_to_uri,
            "WARC-Refers-To-Date": refers_to_date,
            "WARC-Payload-Digest": payload_digest,
            "WARC-Block-Digest": sha1_digest(self._headers_bytes(headers)),
            "WARC-Truncated": "length",
        }
        if refers_to_id:
            fields["WARC-Refers-To"] = refers_to_id
        if exchange.ip_address:
            fields["WARC-IP-Address"] = exchange.ip_address
        self._make_room(len(exchange.request_body) + 4096)
        revisit = self._record(exchange.url, "revisit", b"", fields, headers)
        revisit_id = revisit.rec_headers.get_header("WARC-Record-ID")
        return self._write_pair(exchange, revisit, revisit_id, payload_digest, date)

    def _write_pair(
        self, exchange: HTTPExchange, response: ArcWarcRecord, response_id: str, payload_digest: str, date: str
    ) -> tuple[RecordLocation, RecordLocation]:
        """The request goes right after its response, both in one write (never one without the other)."""
        request_headers = StatusAndHeaders(
            f"{exchange.method} {exchange.request_target} {exchange.protocol}",
            exchange.request_headers,
            is_http_request=True,
        )
        request_fields = {
            "WARC-Date": date,
            "WARC-Concurrent-To": response_id,
            "WARC-Block-Digest": block_digest(self._headers_bytes(request_headers), exchange.request_body),
        }
        request = self._record(exchange.url, "request", exchange.request_body, request_fields, request_headers)
        response_bytes, request_bytes = self._member(response), self._member(request)
        offset = self._append(response_bytes + request_bytes)
        current = self._require_open()
        return (
            RecordLocation(current.relative, response_id, offset, len(response_bytes), date, payload_digest),
            RecordLocation(
                current.relative,
                request.rec_headers.get_header("WARC-Record-ID"),
                offset + len(response_bytes),
                len(request_bytes),
                date,
            ),
        )

    # -- files --------------------------------------------------------------------------------------
    def close(self) -> None:
        """Closes the current file and renames it to its final name."""
        current, self._current = self._current, None
        if current is None:
            return
        current.handle.flush()
        os.fsync(current.handle.fileno())
        current.handle.close()
        os.replace(self._open_path(current.final_path), current.final_path)
        self.closed_files.append(current.final_path)
        logger.info("Closed %s (%d records, %d bytes)", current.final_path, current.records, current.size)

    def sync(self) -> None:
        """Forces written records to disk (called before a sidecar line points at them, when asked)."""
        if self._current is not None:
            os.fsync(self._current.handle.fileno())

    @property
    def current_file(self) -> Path | None:
        return self._current.final_path if self._current else None

    def _require_open(self) -> _OpenFile:
        assert self._current is not None
        return self._current

    def _make_room(self, upper_bound: int) -> None:
        """Rotates before building records, so that they name the warcinfo of the file they land in."""
        current = self._current
        if current is None or (current.size + upper_bound > self.max_bytes and current.records > 1):
            self.close()
            self._open_new()

    def _append(self, data: bytes) -> int:
        current = self._require_open()
        offset = current.size
        written = current.handle.write(data)
        if written != len(data):  # FileIO may write short; finish it or fail loudly
            view = memoryview(data)[written or 0 :]
            while view:
                n = current.handle.write(view)
                if not n:
                    raise OSError(f"could not write to {current.final_path}")
                view = view[n:]
        current.size += len(data)
        current.records += 1
        if self.fsync:
            os.fsync(current.handle.fileno())
        return offset

    def _write_one(self, record: ArcWarcRecord, body_digest: str | None = None) -> RecordLocation:
        data = self._member(record)
        offset = self._append(data)
        current = self._require_open()
        rec_headers = record.rec_headers
        return RecordLocation(
            current.relative,
            rec_headers.get_header("WARC-Record-ID"),
            offset,
            len(data),
            rec_headers.get_header("WARC-Date"),
            body_digest,
        )

    def _open_new(self) -> _OpenFile:
        now = datetime.now(UTC)
        folder = self.root / now.strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True)
        while True:
            stamp = now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}"
            name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self.hostname}-{os.getpid()}.warc.gz"
            self._serial += 1
            final = folder / name
            try:
                handle = open(self._open_path(final), "xb", buffering=0)
            except FileExistsError:
                continue
            if final.exists():  # a finished file of that name: never overwrite
                handle.close()
                os.unlink(self._open_path(final))
                continue
            break
        relative = final.relative_to(self.root).as_posix()
        self._current = _OpenFile(final, relative, handle)
        info = {"software": "", "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                "hostname": socket.gethostname()}
        info.update(self.warcinfo)
        record = self._builder.create_warcinfo_record(name, info)
        self._current.warcinfo_id = record.rec_headers.get_header("WARC-Record-ID")
        self._append(self._member(record))
        logger.info("Opened %s", self._open_path(final))
        return self._current

    @staticmethod
    def _open_path(final: Path) -> Path:
        return final.with_name(final.name + OPEN_SUFFIX)

    # -- serialisation ------------------------------------------------------------------------------
    @staticmethod
    def _headers_bytes(headers: StatusAndHeaders) -> bytes:
        headers.compute_headers_buffer()
        return bytes(headers.headers_buff)

    def _record(
        self,
        url: str,
        rec_type: str,
        body: bytes,
        fields: dict[str, str],
        http_headers: StatusAndHeaders | None,
        content_type: str = "",
    ) -> ArcWarcRecord:
        head = {"WARC-Type": rec_type, "WARC-Record-ID": self._builder._make_warc_id()}
        if url:
            head["WARC-Target-URI"] = url
        if self._current is not None and self._current.warcinfo_id:
            head["WARC-Warcinfo-ID"] = self._current.warcinfo_id
        fields = {**head, **fields}
        return self._builder.create_warc_record(
            url,
            rec_type,
            payload=io.BytesIO(body),
            length=len(body),
            warc_headers_dict=fields,
            http_headers=http_headers,
            warc_content_type=content_type,
        )

    def _member(self, record: ArcWarcRecord) -> bytes:
        """One record as one gzip member."""
        buffer = io.BytesIO()
        self._builder.out = buffer
        self._builder.write_record(record)
        compressor = deflate.compressobj(self.gzip_level, deflate.DEFLATED, 16 + deflate.MAX_WBITS)
        return compressor.compress(buffer.getvalue()) + compressor.flush()
