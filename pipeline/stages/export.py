"""Export: the final articles, paragraphs and rejects tables, with an accounting check."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from pipeline import schema
from pipeline.result import StageResult

STAGE = "export"
_CHROME_STAGE = "strip"
_DUP_STAGE = "dedup"


class AccountingError(RuntimeError):
    """Inputs and outputs do not add up: a dataset with holes must not be written."""


@dataclass(frozen=True)
class RunInfo:
    pipeline_version: str
    params_hash: str
    rules_hash: str
    input_files: int


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
                             doc["doc_id"], doc["source_sha256"])


def _check_accounting(info: RunInfo, paragraphs: pa.Table, articles: int, rejects: int) -> None:
    if articles + rejects != info.input_files:
        raise AccountingError(f"{info.input_files} input files but {articles} articles + "
                              f"{rejects} rejects: some input has no recorded fate")
    statuses = set(paragraphs.column("status").to_pylist())
    if not statuses <= {schema.KEPT, schema.REMOVED}:
        raise AccountingError(f"paragraph statuses outside kept/removed: {sorted(map(str, statuses))}")


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
    all_rejects = sorted(rejects.to_pylist() + emptied, key=lambda r: r["source_path"])
    paragraphs = paragraphs.sort_by([("doc_id", "ascending"), ("para_idx", "ascending")])
    _check_accounting(info, paragraphs, len(articles), len(all_rejects))
    rejects_t = pa.Table.from_pylist(all_rejects, schema=schema.REJECTS)
    counters = {"input_files": info.input_files, "articles": len(articles),
                "rejects": len(all_rejects), "paragraphs": paragraphs.num_rows,
                "paragraphs_kept": sum(a["n_kept"] for a in articles),
                "documents_emptied": len(emptied)}
    return StageResult({"articles": pa.Table.from_pylist(articles, schema=schema.ARTICLES),
                        "paragraphs": paragraphs, "rejects": rejects_t}, rejects_t, counters)
