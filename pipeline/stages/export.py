"""Export: the final articles, paragraphs and rejects tables, with an accounting check."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
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


def _key_hash(key: tuple[str, str | None]) -> int:
    # 8 bytes per input instead of the key itself: the ledger must stay small on millions of pages.
    digest = hashlib.blake2b(f"{key[0]}\0{key[1] or ''}".encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(digest.digest(), "little")


def _check_batch_paragraphs(doc_ids: list[str], paragraphs: pa.Table) -> None:
    """Every paragraph of this batch is here once, belongs to one of its documents, and has one fate."""
    rows = paragraphs.select(["doc_id", "para_idx", "status", "stage", "reason"]).to_pylist()
    keys = Counter((r["doc_id"], r["para_idx"]) for r in rows)
    if len(keys) != len(rows):
        dup = next(k for k, c in keys.items() if c > 1)
        raise AccountingError(f"paragraph {dup[0]}:{dup[1]} appears {keys[dup]} times")
    statuses = {r["status"] for r in rows}
    if not statuses <= {schema.KEPT, schema.REMOVED}:
        raise AccountingError(f"paragraph statuses outside kept/removed: {sorted(map(str, statuses))}")
    bad = next((r for r in rows if r["status"] == schema.REMOVED and not (r["stage"] and r["reason"])), None)
    if bad is not None:
        raise AccountingError(f"paragraph {bad['doc_id']}:{bad['para_idx']} is removed without a stage "
                              f"and a reason")
    orphans = {r["doc_id"] for r in rows} - set(doc_ids)
    if orphans:
        raise AccountingError(f"{len(orphans)} document(s) have paragraphs but no document row, "
                              f"e.g. {min(orphans)!r} (or their paragraphs are out of document order)")
    empty = set(doc_ids) - {r["doc_id"] for r in rows}
    if empty:
        raise AccountingError(f"{len(empty)} extracted document(s) have no paragraph row, "
                              f"e.g. {min(empty)!r}")


def export_batch(documents: pa.Table, paragraphs: pa.Table, info: RunInfo) -> StageResult:
    """One batch of documents with all their paragraphs: articles, and a reject for each document
    left with no text. `tables["paragraphs"]` is the batch's paragraphs in (doc_id, para_idx) order."""
    _check_batch_paragraphs(documents.column("doc_id").to_pylist(), paragraphs)
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
    emptied_t = pa.Table.from_pylist(emptied, schema=schema.REJECTS)
    counters = {"articles": len(articles), "paragraphs": paragraphs.num_rows,
                "paragraphs_kept": sum(a["n_kept"] for a in articles), "documents_emptied": len(emptied)}
    ordered = paragraphs.sort_by([("doc_id", "ascending"), ("para_idx", "ascending")])
    return StageResult({"articles": pa.Table.from_pylist(articles, schema=schema.ARTICLES),
                        "paragraphs": ordered, "rejects": emptied_t}, emptied_t, counters)


@dataclass
class Ledger:
    """What export has written so far, batch by batch; `close` checks the whole run adds up.

    Holds counts and one 8-byte hash per input, never rows: memory stays flat over the batches.
    """

    info: RunInfo
    counters: Counter = field(default_factory=Counter)
    _inputs: list[np.ndarray] = field(default_factory=list)
    _files: list[np.ndarray] = field(default_factory=list)

    def add(self, result: StageResult) -> None:
        self.counters.update(result.counters)
        articles = result.tables["articles"].select(["source_path", "doc_id", "source_record"]).to_pylist()
        self._record(articles)

    def _record(self, rows: list[dict[str, Any]]) -> None:
        self._inputs.append(np.array([_key_hash(_input_key(r)) for r in rows], dtype=np.uint64))
        self._files.append(np.array([_key_hash((r["source_path"], None)) for r in rows], dtype=np.uint64))

    def _check_one_fate(self, rejects: pa.Table) -> None:
        keys = np.concatenate(self._inputs)
        values, counts = np.unique(keys, return_counts=True)
        twice = set(values[counts > 1].tolist())
        if not twice:
            return
        # Only rejects are still in memory to name an example; two articles are named by count.
        named = sorted({_input_key(r) for r in rejects.to_pylist() if _key_hash(_input_key(r)) in twice},
                       key=lambda k: (k[0], k[1] or ""))
        what = ""
        if named:
            path, doc = named[0]
            what = f", e.g. {path!r}" if doc is None else f", e.g. {doc!r} (a record of {path!r})"
        raise AccountingError(f"{len(twice)} input document(s) have more than one fate{what}")

    def close(self, rejects: pa.Table) -> dict[str, Any]:
        """Every reject row (earlier stages' and the emptied documents') is in `rejects`."""
        self._record(rejects.select(["source_path", "doc_id", "source_record"]).to_pylist())
        info, c = self.info, self.counters
        if info.extracted_paragraphs is not None and c["paragraphs"] != info.extracted_paragraphs:
            raise AccountingError(f"extract wrote {info.extracted_paragraphs} paragraphs but "
                                  f"{c['paragraphs']} reached export: paragraphs were lost or added")
        if c["articles"] + rejects.num_rows != info.input_documents:
            raise AccountingError(f"{info.input_documents} input documents (single files and records of "
                                  f"container files) but {c['articles']} articles + {rejects.num_rows} "
                                  f"rejects: some input has no recorded fate, or one has two")
        self._check_one_fate(rejects)
        return {"input_documents": info.input_documents,
                "input_files": len(np.unique(np.concatenate(self._files))),
                "articles": c["articles"], "rejects": rejects.num_rows, "paragraphs": c["paragraphs"],
                "paragraphs_kept": c["paragraphs_kept"], "documents_emptied": c["documents_emptied"]}


def sort_rejects(rejects: pa.Table) -> pa.Table:
    return rejects.sort_by([("source_path", "ascending"), ("doc_id", "ascending")])


def run(documents: pa.Table, paragraphs: pa.Table, rejects: pa.Table, info: RunInfo) -> StageResult:
    """The whole export in one batch (the runner streams `export_batch` over row groups)."""
    res = export_batch(documents, paragraphs, info)
    ledger = Ledger(info)
    ledger.add(res)
    all_rejects = sort_rejects(pa.concat_tables([rejects.cast(schema.REJECTS), res.tables["rejects"]]))
    counters = ledger.close(all_rejects)
    return StageResult({"articles": res.tables["articles"], "paragraphs": res.tables["paragraphs"],
                        "rejects": all_rejects}, all_rejects, counters)
