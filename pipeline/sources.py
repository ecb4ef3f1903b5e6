"""Container files (WARC, JSONL, Parquet): streamed record by record into raw rows for ingest.

This is the I/O side of ingest for files that hold many documents. Each reader yields plain
dicts shaped like `schema.RAW` rows (without `source_path`), one per record, never a list of a
whole file: a 5 GB WARC costs the memory of one record. A record that cannot become a document
(bad JSON line, wrong field types, too large) is a row with `read_error_code` set, so it becomes a
reject and the rest of the file goes on; a record that is not meant to be a document (a WARC
request, an image) is a row with `skip` set, counted by ingest and otherwise dropped. A failure
that stops the file (truncated gzip, a corrupt WARC) is one last row with `record` null.
"""

from __future__ import annotations

import gzip
import io
import json
import stat
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from pipeline import decode
from pipeline.params import IngestParams

# Container formats by (lower-case) extension; `.gz` is allowed where the format streams.
CONTAINERS = {".warc": "warc", ".jsonl": "jsonl", ".parquet": "parquet"}
_GZ_OK = {"warc", "jsonl"}
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
Row = dict[str, Any]


class ContainerTooLarge(Exception):
    """More than `ingest.max_container_bytes` were read from one container file."""


class GzipTruncated(Exception):
    """The gzip stream ended early. Not an EOFError: warcio takes that for the end of the file."""


def container_of(path: str) -> str | None:
    """'warc', 'jsonl' or 'parquet' for a container file name (optionally .gz), else None."""
    lower = path.lower()
    gz = lower.endswith(".gz")
    stem = lower[:-3] if gz else lower
    for ext, kind in CONTAINERS.items():
        if stem.endswith(ext) and (not gz or kind in _GZ_OK):
            return kind
    return None


class _Counted(io.RawIOBase):
    """A read-only stream that refuses to deliver more than `cap` bytes in total."""

    def __init__(self, inner: BinaryIO, cap: int, file: BinaryIO) -> None:
        self.inner, self.cap, self.count, self._file = inner, cap, 0, file

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        # GzipFile does not close the file it reads: close both.
        self.inner.close()
        self._file.close()
        super().close()

    def readinto(self, buf: Any) -> int:
        # read1: what one step yields, so the bytes before a truncation still come out first.
        read = getattr(self.inner, "read1", self.inner.read)
        try:
            data = read(len(buf))
        except EOFError as exc:
            raise GzipTruncated("gzip stream ends before its end-of-stream marker") from exc
        self.count += len(data)
        if self.count > self.cap:
            raise ContainerTooLarge(f"more than ingest.max_container_bytes={self.cap} bytes "
                                    f"(decompressed) in one file")
        buf[: len(data)] = data
        return len(data)


def _open(path: Path, cap: int) -> tuple[_Counted, str | None]:
    """The file's (decompressed) bytes as a raw stream of short reads, and its compression."""
    raw = path.open("rb")
    gz = raw.read(2) == decode.GZIP_MAGIC
    raw.seek(0)
    inner: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw  # type: ignore[assignment]
    return _Counted(inner, cap, raw), "gzip" if gz else None


def _error(code: str, message: str, record: int | None = None, source_record: str | None = None) -> Row:
    return {"read_error_code": code, "read_error": message, "record": record,
            "source_record": source_record if source_record is not None or record is None else str(record)}


def _stopped(exc: BaseException) -> Row:
    """The file-level row for a failure that ends the reading of a container."""
    if isinstance(exc, ContainerTooLarge):
        return _error("container_too_large", f"{exc}; the rest of the file was not read")
    if isinstance(exc, GzipTruncated | EOFError):
        return _error("gzip_truncated", "gzip stream ends before its end-of-stream marker; "
                      "the records before it were read")
    if isinstance(exc, gzip.BadGzipFile | zlib.error):
        return _error("gzip_corrupt", f"gzip data is corrupt ({exc})")
    if isinstance(exc, OSError):
        return _error("unreadable", f"cannot read file ({exc.strerror or exc})")
    name = type(exc).__name__
    return _error("container_corrupt", f"{name}: {exc}; the rest of the file was not read")


def rows_of(path: Path, kind: str, params: IngestParams) -> Iterator[Row]:
    """Every record of one container file as raw rows; never raises for bad input."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            yield _error("not_a_regular_file", "not a regular file (FIFO, socket or device); not read")
            return
    except OSError as exc:
        yield _error("unreadable", f"cannot read file ({exc.strerror or exc})")
        return
    skipped: Counter = Counter()
    documents = 0
    try:
        for row in _READERS[kind](path, params):
            if row.get("skip"):
                skipped[row["skip"]] += 1
            else:
                documents += 1
            yield row
    except Exception as exc:  # any failure of a hostile file ends that file, never the run
        documents += 1
        yield _stopped(exc)
    if not documents:
        what = ", ".join(f"{k} {n}" for k, n in sorted(skipped.items())) or "no records"
        yield _error("no_documents", f"the file holds no document ({what})")


def _warc_rows(path: Path, params: IngestParams) -> Iterator[Row]:
    from warcio.archiveiterator import ArchiveIterator  # only paid when there is a WARC

    stream, compression = _open(path, params.max_container_bytes)
    with stream:  # warcio buffers itself and takes short reads
        for n, rec in enumerate(ArchiveIterator(stream, check_digests=False), start=1):
            yield {**_warc_row(rec, n, params), "compression": compression}


def _content_type(value: str | None) -> tuple[str, str | None]:
    """(mime type, charset) of a Content-Type header."""
    parts = [p.strip() for p in (value or "").split(";")]
    charset = next((p.split("=", 1)[1].strip(" \"'") for p in parts[1:]
                    if p.lower().startswith("charset=")), None)
    return parts[0].lower(), charset or None


def _warc_row(rec: Any, n: int, params: IngestParams) -> Row:
    head = rec.rec_headers
    row: Row = {"record": n, "source_record": head.get_header("WARC-Record-ID") or str(n),
                "url": head.get_header("WARC-Target-URI"), "source_date": head.get_header("WARC-Date")}
    if rec.rec_type == "response":
        http = rec.http_headers
        if http is None:
            return {**row, "skip": "response_not_http"}
        status = http.get_statuscode() or ""
        if not status.startswith("2"):
            return {**row, "skip": f"response_http_{status[:1] or 'x'}xx"}
        mime, charset = _content_type(http.get_header("Content-Type"))
    elif rec.rec_type == "resource":
        mime, charset = _content_type(head.get_header("Content-Type"))
    else:
        return {**row, "skip": rec.rec_type or "unknown"}
    if mime not in _HTML_TYPES:
        return {**row, "skip": f"{rec.rec_type}_not_html"}
    try:  # decodes chunked and gzip/brotli bodies; capped, so a body bomb stops at the cap
        data = rec.content_stream().read(params.max_file_bytes + 1)
    except Exception as exc:  # a broken body spoils this record only
        return {**row, **_error("record_corrupt", f"cannot read the record body ({type(exc).__name__}: "
                                f"{exc})", n, row["source_record"])}
    if len(data) > params.max_file_bytes:
        return {**row, **_error("too_large", "record content > ingest.max_file_bytes", n,
                                row["source_record"])}
    return {**row, "data": data, "source_format": "html", "declared_charset": charset}


def _jsonl_rows(path: Path, params: IngestParams) -> Iterator[Row]:
    counted, compression = _open(path, params.max_container_bytes)
    cap = params.max_file_bytes
    with io.BufferedReader(counted, buffer_size=1 << 16) as stream:
        n = 0
        while line := stream.readline(cap + 1):
            n += 1  # record numbers are line numbers, as an editor or `sed -n Np` shows them
            if len(line) > cap and not line.endswith(b"\n"):
                while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass  # drop the rest of an oversized line without holding it
                yield {**_error("too_large", f"line longer than ingest.max_file_bytes={cap}", n),
                       "compression": compression}
                continue
            if line.strip():
                yield {**_json_row(line, n, params), "compression": compression}


def _json_row(line: bytes, n: int, params: IngestParams) -> Row:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and bad UTF-8 are ValueErrors
        return _error("invalid_json", f"line {n} is not valid JSON ({str(exc)[:200]})", n)
    if not isinstance(obj, dict):
        return _error("bad_record", f"line {n} is a JSON {type(obj).__name__}, not an object", n)
    return document_row(obj, n, params)


def document_row(obj: dict[str, Any], n: int, params: IngestParams) -> Row:
    """One row's fields (JSONL object or Parquet row) to a raw row, or a bad_record error."""
    rid, url, html, text = (obj.get(f) for f in params.fields())
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, str | int)):
        return _error("bad_record", f"field '{params.id_field}' must be a string or an integer, "
                      f"not {type(rid).__name__}", n)
    if isinstance(rid, str) and not _encodable(rid):
        return _error("undecodable", f"field '{params.id_field}' holds lone surrogate code points", n)
    source_record = str(rid) if rid is not None else None
    for name, value in ((params.url_field, url), (params.html_field, html), (params.text_field, text)):
        if value is not None and not isinstance(value, str):
            return _error("bad_record", f"field '{name}' must be a string, not {type(value).__name__}",
                          n, source_record)
        if value is not None and not _encodable(value):  # JSON's "\ud800": no UTF-8, no Arrow string
            return _error("undecodable", f"field '{name}' holds lone surrogate code points", n,
                          source_record)
    row: Row = {"record": n, "source_record": source_record or str(n), "url": url or None}
    if html is not None and html.strip():
        return {**row, "text": html, "source_format": "html"}
    if text is not None and text.strip():
        return {**row, "text": text, "source_format": "text"}
    return {**row, **_error("no_content", f"neither '{params.html_field}' nor '{params.text_field}' "
                            f"holds any text", n, row["source_record"])}


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _parquet_rows(path: Path, params: IngestParams) -> Iterator[Row]:
    import pyarrow.parquet as pq

    if path.stat().st_size > params.max_container_bytes:
        yield _error("container_too_large", "file larger than ingest.max_container_bytes; not read")
        return
    # Streamed: pages are read as the batches need them, not whole row groups up front.
    pf = pq.ParquetFile(path, buffer_size=1 << 20, pre_buffer=False)
    present = [f for f in params.fields() if f in pf.schema_arrow.names]
    bad = _parquet_schema_error(pf.schema_arrow, params)
    if bad is not None:
        yield bad
        return
    n = 0
    for batch in pf.iter_batches(batch_size=params.batch_size, columns=present):
        for obj in batch.to_pylist():
            n += 1
            row = document_row(obj, n, params)
            if row.get("text") is not None and len(row["text"]) > params.max_file_bytes:
                row = {**row, **_error("too_large", "row content > ingest.max_file_bytes", n,
                                       row["source_record"]), "text": None}
            yield row


def _parquet_schema_error(schema: Any, params: IngestParams) -> Row | None:
    """A file-level error when the columns cannot hold documents at all."""
    import pyarrow as pa

    names = schema.names
    if params.html_field not in names and params.text_field not in names:
        return _error("no_content", f"no '{params.html_field}' or '{params.text_field}' column")
    for field in (params.url_field, params.html_field, params.text_field):
        if field in names and not pa.types.is_string(t := schema.field(field).type) \
                and not pa.types.is_large_string(t):
            return _error("bad_record", f"column '{field}' is {t}, not a string")
    return None


_READERS = {"warc": _warc_rows, "jsonl": _jsonl_rows, "parquet": _parquet_rows}
