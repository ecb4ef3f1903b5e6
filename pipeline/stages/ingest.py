"""Ingest: raw file bytes to decoded documents with provenance, or to rejects with a reason."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from pipeline import decode, schema
from pipeline.params import IngestParams
from pipeline.result import StageResult
from pipeline.sources import CONTAINERS, container_of

_NO_RAW: dict[str, Any] = dict.fromkeys(schema.RAW.names)  # a raw row with every field null

STAGE = "ingest"
_FORMATS = {".txt": "text", ".text": "text", ".html": "html", ".htm": "html", ".xhtml": "html"}
_RECORD_ID = re.compile(r"^(.*)#\d+$")


@dataclass(frozen=True)
class Decoded:
    content: str
    encoding: str
    compression: str | None


def format_of(path: str) -> tuple[str | None, bool]:
    """(source_format, gzip by name) from a file name such as `a/b.html.gz`."""
    lower = path.lower()
    gz = lower.endswith(".gz")
    if gz:
        lower = lower[:-3]
    for ext, fmt in _FORMATS.items():
        if lower.endswith(ext):
            return fmt, gz
    return None, gz


def doc_id_for(path: str) -> str:
    """The path relative to the raw folder without its format extensions: stable across runs."""
    stem = path[:-3] if path.lower().endswith(".gz") else path
    for ext in [*_FORMATS, *CONTAINERS]:
        if stem.lower().endswith(ext):
            return stem[: -len(ext)]
    return stem


def record_doc_id(file_id: str, record: int | None) -> str:
    """A container's record n is `<file id>#<n>` (zero-padded so ids sort in file order)."""
    return file_id if record is None else f"{file_id}#{record:07d}"


def assign_doc_ids(paths: Iterable[str]) -> dict[str, str]:
    """Map each path to a doc_id; paths whose ids would collide keep their full path as id.

    A single file whose id reads like a record of a container (`a#0000001.txt` beside `a.jsonl`)
    keeps its full path too, so record ids never meet file ids.
    """
    paths = list(paths)
    ids = {p: doc_id_for(p) for p in paths}
    seen = Counter(ids.values())
    containers = {d for p, d in ids.items() if container_of(p)}

    def clash(p: str, d: str) -> bool:
        m = _RECORD_ID.match(d)
        return seen[d] > 1 or (m is not None and m.group(1) in containers and not container_of(p))

    return {p: (p if clash(p, d) else d) for p, d in ids.items()}


def decode_bytes(data: bytes, fmt: str, gz_name: bool, params: IngestParams,
                 http_charset: str | None = None) -> Decoded:
    """Bytes to text: gunzip (by name or magic), refuse binary, then BOM, the HTTP charset (WARC),
    the page's declared charset, detection."""
    compression = None
    if gz_name or data.startswith(decode.GZIP_MAGIC):
        data = decode.gunzip_capped(data, params.max_decompressed_bytes)
        compression = "gzip"
    if not data or data.isspace():  # as `not data.strip()`, without copying the page
        raise decode.DecodeError("empty_file", "no content (empty or whitespace only)")
    bom = decode.bom_encoding(data)
    if bom is None:
        kind = decode.binary_kind(data)
        if kind is not None:
            raise decode.DecodeError("binary_content", f"binary data ({kind}), not text or HTML")
    candidates = [bom] if bom else []
    if http_charset:
        candidates.append(decode.known_charset(http_charset))
    if fmt == "html":
        candidates.append(decode.declared_charset(data))
    candidates.append("utf-8")  # then UTF-8 (most input), before guessing
    # Each candidate is a Python codec's own name: a declaration of UTF-8 is not tried twice.
    for enc in dict.fromkeys(c for c in candidates if c):
        try:
            return _checked(data.decode(enc), enc, compression, params, data)
        except UnicodeDecodeError:
            continue  # a wrong declaration is common; fall through to detection
    enc = decode.guess_charset(data)
    if enc is None:
        raise decode.DecodeError("undecodable", "no character encoding decodes this file")
    return _checked(data.decode(enc, errors="strict"), enc, compression, params, data)


def _checked(text: str, enc: str, compression: str | None, params: IngestParams, data: bytes) -> Decoded:
    ratio = decode.control_ratio(text, data, enc)
    if ratio > params.max_control_char_ratio:
        raise decode.DecodeError("binary_content",
                                 f"{ratio:.1%} control characters after decoding as {enc}")
    if not text or text.isspace():
        raise decode.DecodeError("empty_file", "no content after decoding")
    return Decoded(text, enc, compression)


def _reject(row: dict[str, Any], doc_id: str, code: str, message: str, sha: str | None = None) -> dict:
    return schema.reject_row(row["source_path"], code, message, STAGE, doc_id, sha, row["source_record"])


def _document(row: dict[str, Any], doc_id: str, sha: str, size: int, fmt: str, dec: Decoded) -> dict:
    return {"doc_id": doc_id, "source_path": row["source_path"], "source_sha256": sha, "source_bytes": size,
            "source_format": fmt, "compression": dec.compression or row["compression"],
            "encoding": dec.encoding, "url": row["url"], "content": dec.content,
            "source_record": row["source_record"], "source_date": row["source_date"]}


def _ingest_text(row: dict[str, Any], doc_id: str, params: IngestParams) -> tuple[dict | None, dict | None]:
    """A record whose content is already a string (a JSONL or Parquet field)."""
    text: str = row["text"]
    raw = text.encode("utf-8")  # an Arrow string: valid UTF-8 (sources refuse lone surrogates)
    sha = hashlib.sha256(raw).hexdigest()
    if len(raw) > params.max_file_bytes:
        return None, _reject(row, doc_id, "too_large", f"{len(raw)} bytes > ingest.max_file_bytes", sha)
    try:
        dec = _checked(text, "utf-8", None, params, raw)
    except decode.DecodeError as exc:
        return None, _reject(row, doc_id, exc.code, str(exc), sha)
    return _document(row, doc_id, sha, len(raw), row["source_format"], dec), None


def _ingest_one(row: dict[str, Any], doc_id: str, params: IngestParams) -> tuple[dict | None, dict | None]:
    path, data = row["source_path"], row["data"]
    if row["read_error"] or row["read_error_code"] or (data is None and row["text"] is None):
        return None, _reject(row, doc_id, row["read_error_code"] or "unreadable",
                             row["read_error"] or "no data")
    if row["text"] is not None:
        return _ingest_text(row, doc_id, params)
    sha = hashlib.sha256(data).hexdigest()
    fmt, gz = format_of(path)
    if row["record"] is not None:  # a WARC payload: the container was decompressed already
        fmt, gz = row["source_format"], False
    if fmt is None:
        return None, _reject(row, doc_id, "unsupported_format",
                             "file extension is not .txt, .html, .htm (optionally .gz), .warc, .jsonl "
                             "(optionally .gz) or .parquet", sha)
    if len(data) > params.max_file_bytes:
        return None, _reject(row, doc_id, "too_large", f"{len(data)} bytes > ingest.max_file_bytes", sha)
    try:
        dec = decode_bytes(data, fmt, gz, params, row["declared_charset"])
    except decode.DecodeError as exc:
        return None, _reject(row, doc_id, exc.code, str(exc), sha)
    return _document(row, doc_id, sha, len(data), fmt, dec), None


def run(raw: pa.Table | Sequence[dict[str, Any]], params: IngestParams,
        doc_ids: dict[str, str] | None = None) -> StageResult:
    """Decode every raw file or record; `doc_ids` (path -> id) comes from the whole listing so ids
    are batch-independent. Records a container marked `skip` (a WARC request, an image) are
    counted, not documents.

    `raw` is a `schema.RAW` table or its rows (`rawdir.raw_rows`; a field left out is null): in
    the process that read them, a table would only be converted straight back."""
    rows = raw.to_pylist() if isinstance(raw, pa.Table) else [{**_NO_RAW, **row} for row in raw]
    ids = doc_ids if doc_ids is not None else assign_doc_ids({row["source_path"] for row in rows})
    docs, rejects, skipped = [], [], Counter()
    records = 0
    for row in rows:
        records += row["record"] is not None
        if row["skip"]:
            skipped[row["skip"]] += 1
            continue
        doc, rej = _ingest_one(row, record_doc_id(ids[row["source_path"]], row["record"]), params)
        (docs if doc else rejects).append(doc or rej)
    rejects_t = pa.Table.from_pylist(rejects, schema=schema.REJECTS)
    counters = {"inputs": len(docs) + len(rejects), "documents": len(docs), "rejects": len(rejects),
                "records": records, "records_skipped": dict(sorted(skipped.items())),
                "rejects_by_reason": dict(sorted(Counter(r["reason_code"] for r in rejects).items()))}
    return StageResult({"documents": pa.Table.from_pylist(docs, schema=schema.DOCUMENTS_RAW),
                        "rejects": rejects_t}, rejects_t, counters)
