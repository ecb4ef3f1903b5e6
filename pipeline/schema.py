"""Arrow schemas of every table the stages exchange: the contract, written down once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

RAW = pa.schema([
    ("source_path", pa.string()),
    ("data", pa.binary()),
    ("read_error", pa.string()),       # set when the file was not read: why, for a person
    ("read_error_code", pa.string()),  # ... and as a reject reason code
    # Set for one record of a container file (WARC, JSONL, Parquet); null for a single file.
    ("record", pa.int64()),            # 1-based number of the record in its file
    ("source_record", pa.string()),    # its own id (WARC-Record-ID, the row's id field) or number
    ("source_date", pa.string()),      # WARC-Date
    ("url", pa.string()),
    ("source_format", pa.string()),    # html | text, when the container says (else: by extension)
    ("compression", pa.string()),      # of the container
    ("declared_charset", pa.string()),  # the HTTP Content-Type charset of a WARC response
    ("text", pa.string()),             # content already decoded (a JSONL or Parquet string field)
    ("skip", pa.string()),             # why a record is not a document (request, image/png...)
])

_PROVENANCE = [
    ("doc_id", pa.string()),
    ("source_path", pa.string()),
    ("source_sha256", pa.string()),
    ("source_bytes", pa.int64()),
    ("source_format", pa.string()),
    ("compression", pa.string()),
    ("encoding", pa.string()),
    ("url", pa.string()),
]

# Appended after the existing columns (the contract only grows): which record of a container
# file a document is (null for a single-document file), and the crawl date a WARC gives.
_RECORD = [("source_record", pa.string()), ("source_date", pa.string())]

# ingest -> extract: one row per decoded input document.
DOCUMENTS_RAW = pa.schema([*_PROVENANCE, ("content", pa.string()), *_RECORD])

# extract -> later stages: document metadata and the extracted text that paragraph offsets index.
DOCUMENTS = pa.schema([
    *_PROVENANCE,
    ("title", pa.string()),
    ("date", pa.string()),
    ("site", pa.string()),
    ("hostname", pa.string()),
    ("extracted_text", pa.string()),
    *_RECORD,
])

PARAGRAPHS = pa.schema([
    ("doc_id", pa.string()),
    ("para_idx", pa.int32()),
    ("text", pa.string()),
    ("char_start", pa.int64()),
    ("char_end", pa.int64()),
    ("status", pa.string()),       # kept | removed
    ("stage", pa.string()),        # stage that removed (or, under the guard, flagged) the row
    ("rule_id", pa.string()),
    ("reason", pa.string()),
    ("dup_of", pa.string()),       # doc_id:para_idx of the surviving copy
    ("similarity", pa.float64()),  # MinHash estimate of Jaccard with the survivor
    ("jaccard", pa.float64()),     # exact Jaccard of the shingle sets (the verification)
    ("contained_in", pa.string()),  # doc_id:para_idx of a longer paragraph holding most of this one
    ("containment", pa.float64()),  # share of this paragraph's shingles found in contained_in
    ("dup_cluster", pa.int64()),    # cluster_id in dup_clusters.parquet, for every member
    ("tag", pa.string()),           # HTML block kind from extraction: p, head, item, quote, row, ...
    ("link_density", pa.float64()),  # share of the paragraph's characters inside links (HTML only)
])

REJECTS = pa.schema([
    ("source_path", pa.string()),
    ("reason", pa.string()),        # "<code>: <what happened>"
    ("reason_code", pa.string()),
    ("stage", pa.string()),
    ("doc_id", pa.string()),
    ("source_sha256", pa.string()),
    ("source_record", pa.string()),  # which record of a container file; null for a single file
])

ARTICLES = pa.schema([
    *_PROVENANCE,
    ("title", pa.string()),
    ("date", pa.string()),
    ("site", pa.string()),
    ("text", pa.string()),
    ("n_paragraphs", pa.int32()),
    ("n_removed_chrome", pa.int32()),
    ("n_removed_duplicate", pa.int32()),
    ("n_kept", pa.int32()),
    ("strip_guarded", pa.bool_()),
    ("pipeline_version", pa.string()),
    ("params_hash", pa.string()),
    ("rules_hash", pa.string()),
    *_RECORD,
])

KEPT = "kept"
REMOVED = "removed"


def write_at(column: pa.Array | pa.ChunkedArray, rows: Sequence[int] | np.ndarray, values: list[Any],
             type_: pa.DataType) -> pa.Array | pa.ChunkedArray:
    """`column` with `values` written at `rows` (in row order), the other rows as they were: how
    the stages after extract set a paragraph's fate columns."""
    if not len(rows):
        return column
    mask = np.zeros(len(column), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(column, pa.array(mask), pa.array(values, type=type_))


def table_of(sch: pa.Schema, n: int, given: dict[str, Any], base: pa.Table | None = None) -> pa.Table:
    """A table of `sch` with `n` rows: each column from `given` (Arrow arrays cast to the field's
    type, anything else converted), else `base`'s column of that name, else nulls."""
    columns = []
    for f in sch:
        if f.name in given:
            value = given[f.name]
            arrow = isinstance(value, pa.Array | pa.ChunkedArray)
            columns.append(value.cast(f.type) if arrow else pa.array(value, f.type))
        elif base is not None and f.name in base.column_names:
            columns.append(base.column(f.name).cast(f.type))
        else:
            columns.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(columns, schema=sch)


def empty(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


def reject_row(source_path: str, code: str, message: str, stage: str,
               doc_id: str | None = None, sha256: str | None = None,
               source_record: str | None = None) -> dict:
    return {"source_path": source_path, "reason": f"{code}: {message}", "reason_code": code,
            "stage": stage, "doc_id": doc_id, "source_sha256": sha256, "source_record": source_record}

# dedup: one row per cluster of duplicate paragraphs (members as doc_id:para_idx, earliest first).
DUP_CLUSTERS = pa.schema([
    ("cluster_id", pa.int64()),
    ("size", pa.int32()),
    ("n_documents", pa.int32()),
    ("survivor", pa.string()),
    ("members", pa.list_(pa.string())),
    ("documents", pa.list_(pa.string())),
])
