"""The audit commands' I/O: read one document's rows from every stage's output, or the whole run.

Only this module (and the command wiring) touches files; the renderers get DataFrames and dicts.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from pipeline.audit.errors import unknown_document

PARAGRAPH_STAGES = ("extract", "strip", "dedup")


@dataclass(frozen=True)
class DocRecord:
    """Everything the run recorded about one document, stage by stage (None: stage output absent)."""

    doc_id: str
    ingest: dict[str, Any] | None                 # stages/ingest/documents.parquet row (with content)
    document: dict[str, Any] | None               # stages/extract/documents.parquet row
    paragraphs: dict[str, pd.DataFrame | None]    # stage -> that stage's rows of the document
    rejects: list[dict[str, Any]] = field(default_factory=list)
    article: dict[str, Any] | None = None
    raw_text: str | None = None                   # the raw file as UTF-8 (for the ingest diff)
    raw_note: str = ""                            # why raw_text is missing, or how it was read


@dataclass(frozen=True)
class RunTables:
    articles: pd.DataFrame
    paragraphs: pd.DataFrame
    rejects: pd.DataFrame
    clusters: pd.DataFrame
    metrics: dict[str, Any]


def _rows(path: Path, doc_id: str, columns: list[str] | None = None) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    return pq.read_table(path, columns=columns, filters=[("doc_id", "=", doc_id)]).to_pandas()


def _first(df: pd.DataFrame | None) -> dict[str, Any] | None:
    if df is None or df.empty:
        return None
    return {k: (None if _isnull(v) else v) for k, v in df.iloc[0].to_dict().items()}


def _isnull(v: Any) -> bool:
    return not isinstance(v, list | tuple | dict) and pd.isna(v)


def _rejects_path(out: Path) -> list[Path]:
    final = out / "rejects.parquet"
    if final.is_file():
        return [final]
    return [p for p in (out / "stages" / s / "rejects.parquet" for s in ("ingest", "extract")) if p.is_file()]


def known_doc_ids(out: Path) -> list[str]:
    docs = out / "stages" / "ingest" / "documents.parquet"
    if not docs.is_file():
        raise FileNotFoundError(f"{docs} is missing: run `pipeline run RAW_DIR --out {out}` "
                                f"(or `dvc repro`) first")
    ids = set(pq.read_table(docs, columns=["doc_id"]).column("doc_id").to_pylist())
    for path in _rejects_path(out):
        ids.update(d for d in pq.read_table(path, columns=["doc_id"]).column("doc_id").to_pylist() if d)
    return sorted(ids)


def _read_raw(raw_dir: Path | None, ingest: dict[str, Any] | None) -> tuple[str | None, str]:
    """The raw file under raw_dir as UTF-8 (replacing bad bytes), if it is the one the run read."""
    if ingest is None or raw_dir is None:
        return None, "no raw folder given"
    if ingest.get("source_record") is not None:
        return None, (f"record {ingest['source_record']} of the container file {ingest['source_path']}; "
                      f"its sha256 is of the record's content, not of the file")
    path = raw_dir / ingest["source_path"]
    if not path.is_file():
        return None, f"raw file {path} not found"
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != ingest["source_sha256"]:
        return None, f"raw file {path} has changed since the run (sha256 differs)"
    if ingest.get("compression") == "gzip":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace"), f"raw file {path} read as UTF-8"


def load_document(out: Path, doc_id: str, raw_dir: Path | None = None) -> DocRecord:
    known = known_doc_ids(out)
    if doc_id not in known:
        raise unknown_document(doc_id, known, str(out))
    stages = out / "stages"
    ingest = _first(_rows(stages / "ingest" / "documents.parquet", doc_id))
    paragraphs = {s: _rows(stages / s / "paragraphs.parquet", doc_id) for s in PARAGRAPH_STAGES}
    paragraphs = {s: (None if df is None else df.sort_values("para_idx", ignore_index=True))
                  for s, df in paragraphs.items()}
    rejects: list[dict[str, Any]] = []
    for path in _rejects_path(out):
        rejects += _rows(path, doc_id).to_dict("records")
    raw_text, raw_note = _read_raw(raw_dir, ingest)
    return DocRecord(doc_id, ingest, _first(_rows(stages / "extract" / "documents.parquet", doc_id)),
                     paragraphs, rejects, _first(_rows(out / "articles.parquet", doc_id)),
                     raw_text, raw_note)


def load_run(out: Path) -> RunTables:
    need = {n: out / f"{n}.parquet" for n in ("articles", "paragraphs", "rejects", "dup_clusters")}
    for path in need.values():
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: run `pipeline run RAW_DIR --out {out}` "
                                    f"(or `dvc repro`) first")
    metrics = {}
    for path in sorted((out / "metrics").glob("*.json")):
        metrics.update(json.loads(path.read_text(encoding="utf-8")))
    return RunTables(*(pd.read_parquet(p) for p in need.values()), metrics)
