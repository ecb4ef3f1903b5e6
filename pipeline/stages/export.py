"""Export: the final articles, paragraphs and rejects tables, with an accounting check."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from pipeline import schema
from pipeline.export_errors import AccountingError
from pipeline.result import StageResult

STAGE = "export"
_CHROME_STAGE = "strip"
_DUP_STAGE = "dedup"


@dataclass(frozen=True)
class RunInfo:
    pipeline_version: str
    params_hash: str
    rules_hash: str
    # Documents ingest saw: one per single-document file, one per record of a container (WARC,
    # JSONL, Parquet), one per container that failed as a whole. Each must be an article or a reject.
    input_documents: int
    # Rows extract wrote to paragraphs.parquet; None skips that check (a caller without it).
    extracted_paragraphs: int | None = None


def _tally(paragraphs: pa.Table) -> dict[str, dict[str, Any]]:
    per_doc: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"n": 0, "chrome": 0, "dup": 0, "kept": [], "guarded": False})
    cols = paragraphs.select(["doc_id", "para_idx", "text", "status", "stage"]).to_pylist()
    for r in sorted(cols, key=lambda r: (r["doc_id"], r["para_idx"])):
        t = per_doc[r["doc_id"]]
        t["n"] += 1
        if r["status"] == schema.KEPT:
            t["kept"].append(r["text"])
            t["guarded"] |= r["stage"] == _CHROME_STAGE
        elif r["stage"] == _CHROME_STAGE:
            t["chrome"] += 1
        elif r["stage"] == _DUP_STAGE:
            t["dup"] += 1
    return per_doc


def _emptied_reject(doc: dict[str, Any], t: dict[str, Any]) -> dict[str, Any]:
    msg = (f"every paragraph was removed ({t['chrome']} as chrome, {t['dup']} as duplicates "
           f"of earlier documents); see paragraphs.parquet for each one's reason")
    return schema.reject_row(doc["source_path"], "all_paragraphs_removed", msg, STAGE,
                             doc["doc_id"], doc["source_sha256"], doc.get("source_record"))


def _input_key(row: dict[str, Any]) -> tuple[str, str | None]:
    """Which input a row is the fate of: a file, or one record of a container file."""
    return row["source_path"], row["doc_id"] if row.get("source_record") is not None else None


def _check_inputs(info: RunInfo, articles: list[dict[str, Any]], rejects: list[dict[str, Any]]) -> None:
    """Input documents (files and container records) = articles + rejects, none with two fates."""
    if len(articles) + len(rejects) != info.input_documents:
        raise AccountingError(f"{info.input_documents} input documents (single files and records of "
                              f"container files) but {len(articles)} articles + {len(rejects)} rejects: "
                              f"some input has no recorded fate, or one has two")
    seen = Counter(_input_key(r) for r in [*articles, *rejects])
    twice = sorted((k for k, n in seen.items() if n > 1), key=lambda k: (k[0], k[1] or ""))
    if twice:
        path, doc = twice[0]
        what = repr(path) if doc is None else f"{doc!r} (a record of {path!r})"
        raise AccountingError(f"{len(twice)} input document(s) have more than one fate, e.g. {what}")


def _check_paragraphs(info: RunInfo, doc_ids: set[str], paragraphs: pa.Table) -> None:
    """Every extracted paragraph is here once, belongs to a document, and has exactly one fate."""
    n = paragraphs.num_rows
    if info.extracted_paragraphs is not None and n != info.extracted_paragraphs:
        raise AccountingError(f"extract wrote {info.extracted_paragraphs} paragraphs but {n} reached "
                              f"export: paragraphs were lost or added on the way")
    rows = paragraphs.select(["doc_id", "para_idx", "status", "stage", "reason"]).to_pylist()
    keys = Counter((r["doc_id"], r["para_idx"]) for r in rows)
    if len(keys) != n:
        dup = next(k for k, c in keys.items() if c > 1)
        raise AccountingError(f"paragraph {dup[0]}:{dup[1]} appears {keys[dup]} times")
    statuses = {r["status"] for r in rows}
    if not statuses <= {schema.KEPT, schema.REMOVED}:
        raise AccountingError(f"paragraph statuses outside kept/removed: {sorted(map(str, statuses))}")
    bad = next((r for r in rows if r["status"] == schema.REMOVED and not (r["stage"] and r["reason"])), None)
    if bad is not None:
        raise AccountingError(f"paragraph {bad['doc_id']}:{bad['para_idx']} is removed without a stage "
                              f"and a reason")
    orphans = {r["doc_id"] for r in rows} - doc_ids
    if orphans:
        raise AccountingError(f"{len(orphans)} document(s) have paragraphs but no document row, "
                              f"e.g. {min(orphans)!r}")
    empty = doc_ids - {r["doc_id"] for r in rows}
    if empty:
        raise AccountingError(f"{len(empty)} extracted document(s) have no paragraph row, "
                              f"e.g. {min(empty)!r}")


def run(documents: pa.Table, paragraphs: pa.Table, rejects: pa.Table, info: RunInfo) -> StageResult:
    """Join documents with their paragraphs' fates; a document left with no text is a reject."""
    per_doc = _tally(paragraphs)
    articles, emptied = [], []
    for doc in sorted(documents.to_pylist(), key=lambda d: d["doc_id"]):
        t = per_doc[doc["doc_id"]]
        if not t["kept"]:
            emptied.append(_emptied_reject(doc, t))
            continue
        row = {k: doc[k] for k in schema.ARTICLES.names if k in doc}
        row.update(text="\n\n".join(t["kept"]), n_paragraphs=t["n"], n_removed_chrome=t["chrome"],
                   n_removed_duplicate=t["dup"], n_kept=len(t["kept"]), strip_guarded=t["guarded"],
                   pipeline_version=info.pipeline_version, params_hash=info.params_hash,
                   rules_hash=info.rules_hash)
        articles.append(row)
    all_rejects = sorted(rejects.to_pylist() + emptied, key=lambda r: (r["source_path"], r["doc_id"] or ""))
    paragraphs = paragraphs.sort_by([("doc_id", "ascending"), ("para_idx", "ascending")])
    _check_paragraphs(info, set(documents.column("doc_id").to_pylist()), paragraphs)
    _check_inputs(info, articles, all_rejects)
    rejects_t = pa.Table.from_pylist(all_rejects, schema=schema.REJECTS)
    counters = {"input_documents": info.input_documents,
                "input_files": len({r["source_path"] for r in [*articles, *all_rejects]}),
                "articles": len(articles),
                "rejects": len(all_rejects), "paragraphs": paragraphs.num_rows,
                "paragraphs_kept": sum(a["n_kept"] for a in articles),
                "documents_emptied": len(emptied)}
    return StageResult({"articles": pa.Table.from_pylist(articles, schema=schema.ARTICLES),
                        "paragraphs": paragraphs, "rejects": rejects_t}, rejects_t, counters)
