"""Ingest: raw file bytes to decoded documents with provenance, or to rejects with a reason."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from pipeline import decode, schema
from pipeline.params import IngestParams
from pipeline.result import StageResult

STAGE = "ingest"
_FORMATS = {".txt": "text", ".text": "text", ".html": "html", ".htm": "html", ".xhtml": "html"}


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
    for ext in _FORMATS:
        if stem.lower().endswith(ext):
            return stem[: -len(ext)]
    return stem


def assign_doc_ids(paths: Iterable[str]) -> dict[str, str]:
    """Map each path to a doc_id; paths whose ids would collide keep their full path as id."""
    paths = list(paths)
    ids = {p: doc_id_for(p) for p in paths}
    seen: dict[str, int] = {}
    for d in ids.values():
        seen[d] = seen.get(d, 0) + 1
    return {p: (d if seen[d] == 1 else p) for p, d in ids.items()}


def decode_bytes(data: bytes, fmt: str, gz_name: bool, params: IngestParams) -> Decoded:
    """Bytes to text: gunzip (by name or magic), refuse binary, then BOM, declared charset, detection."""
    compression = None
    if gz_name or data.startswith(decode.GZIP_MAGIC):
        data = decode.gunzip_capped(data, params.max_decompressed_bytes)
        compression = "gzip"
    if not data.strip():
        raise decode.DecodeError("empty_file", "no content (empty or whitespace only)")
    bom = decode.bom_encoding(data)
    if bom is None:
        kind = decode.binary_kind(data)
        if kind is not None:
            raise decode.DecodeError("binary_content", f"binary data ({kind}), not text or HTML")
    candidates = [bom] if bom else []
    if fmt == "html":
        candidates.append(decode.declared_charset(data))
    for enc in candidates:
        if enc:
            try:
                return _checked(data.decode(enc), enc, compression, params)
            except UnicodeDecodeError:
                continue  # a wrong declaration is common; fall through to detection
    enc = decode.detect_charset(data)
    if enc is None:
        raise decode.DecodeError("undecodable", "no character encoding decodes this file")
    return _checked(data.decode(enc, errors="strict"), enc, compression, params)


def _checked(text: str, enc: str, compression: str | None, params: IngestParams) -> Decoded:
    ratio = decode.control_ratio(text)
    if ratio > params.max_control_char_ratio:
        raise decode.DecodeError("binary_content",
                                 f"{ratio:.1%} control characters after decoding as {enc}")
    if not text.strip():
        raise decode.DecodeError("empty_file", "no content after decoding")
    return Decoded(text, enc, compression)


def _ingest_one(path: str, data: bytes | None, read_error: tuple[str, str] | None, doc_id: str,
                params: IngestParams) -> tuple[dict | None, dict | None]:
    if read_error is not None or data is None:
        code, message = read_error or ("unreadable", "no data")
        return None, schema.reject_row(path, code, message, STAGE, doc_id)
    sha = hashlib.sha256(data).hexdigest()
    fmt, gz = format_of(path)
    if fmt is None:
        return None, schema.reject_row(path, "unsupported_format",
                                       "file extension is not .txt, .html or .htm (optionally .gz)",
                                       STAGE, doc_id, sha)
    if len(data) > params.max_file_bytes:
        return None, schema.reject_row(path, "too_large",
                                       f"{len(data)} bytes > ingest.max_file_bytes", STAGE, doc_id, sha)
    try:
        dec = decode_bytes(data, fmt, gz, params)
    except decode.DecodeError as exc:
        return None, schema.reject_row(path, exc.code, str(exc), STAGE, doc_id, sha)
    return {"doc_id": doc_id, "source_path": path, "source_sha256": sha, "source_bytes": len(data),
            "source_format": fmt, "compression": dec.compression, "encoding": dec.encoding,
            "url": None, "content": dec.content}, None


def run(raw: pa.Table, params: IngestParams, doc_ids: dict[str, str] | None = None) -> StageResult:
    """Decode every raw file; `doc_ids` comes from the whole listing so ids are batch-independent."""
    paths = raw.column("source_path").to_pylist()
    ids = doc_ids if doc_ids is not None else assign_doc_ids(paths)
    docs, rejects = [], []
    errors = zip(raw.column("read_error_code").to_pylist(), raw.column("read_error").to_pylist(),
                 strict=True)
    for path, data, (code, err) in zip(paths, raw.column("data").to_pylist(), errors, strict=True):
        doc, rej = _ingest_one(path, data, (code or "unreadable", err) if err else None, ids[path], params)
        (docs if doc else rejects).append(doc or rej)
    rejects_t = pa.Table.from_pylist(rejects, schema=schema.REJECTS)
    by_reason: dict[str, int] = {}
    for r in rejects:
        by_reason[r["reason_code"]] = by_reason.get(r["reason_code"], 0) + 1
    counters = {"files": len(paths), "documents": len(docs), "rejects": len(rejects),
                "rejects_by_reason": by_reason}
    return StageResult({"documents": pa.Table.from_pylist(docs, schema=schema.DOCUMENTS_RAW),
                        "rejects": rejects_t}, rejects_t, counters)
