"""Export: the final articles, paragraphs and rejects tables, with an accounting check."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


@dataclass(frozen=True)
class Tally:
    """Per document of a batch (documents in doc_id order): its paragraph counts and kept text."""

    n: np.ndarray
    chrome: np.ndarray
    dup: np.ndarray
    kept: np.ndarray
    guarded: np.ndarray
    text: pa.Array  # the kept paragraphs in para_idx order, joined by blank lines


def _tally(ordered: pa.Table, doc_ids: pa.Array) -> Tally:
    """Counts per document over `ordered` (paragraphs sorted by doc_id, para_idx), one entry per
    `doc_ids` value; sums over runs of equal doc_id instead of a Python loop over rows."""
    n_rows = ordered.num_rows
    ids = ordered.column("doc_id")
    change = np.flatnonzero(pc.not_equal(ids.slice(1), ids.slice(0, n_rows - 1)).to_numpy(
        zero_copy_only=False)) + 1 if n_rows > 1 else np.zeros(0, dtype=np.int64)
    starts = np.concatenate([[0], change]).astype(np.int64) if n_rows else np.zeros(0, dtype=np.int64)
    status, stage = ordered.column("status"), ordered.column("stage")
    kept = _mask(pc.equal(status, schema.KEPT))
    chrome_stage, dup_stage = _mask(pc.equal(stage, _CHROME_STAGE)), _mask(pc.equal(stage, _DUP_STAGE))

    def per_run(mask: np.ndarray) -> np.ndarray:
        return np.add.reduceat(mask.astype(np.int64), starts) if n_rows else np.zeros(0, dtype=np.int64)

    n_kept = per_run(kept)
    offsets = pa.array(np.concatenate([[0], np.cumsum(n_kept)]), pa.int64())
    texts = ordered.column("text").filter(pa.array(kept)).combine_chunks()
    joined = pc.binary_join(pa.LargeListArray.from_arrays(offsets, texts), "\n\n")
    # Each document's run: index_in finds it by value (a document row given twice shares its run).
    run = pc.index_in(doc_ids, value_set=pc.take(ids, pa.array(starts))).to_numpy(zero_copy_only=False)
    return Tally(np.diff(np.append(starts, n_rows))[run], per_run(~kept & chrome_stage)[run],
                 per_run(~kept & ~chrome_stage & dup_stage)[run], n_kept[run],
                 per_run(kept & chrome_stage)[run] > 0, pc.take(joined, pa.array(run)))


def _mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A boolean Arrow result as numpy, null (no stage, no status) as False."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False).astype(bool)


def _emptied_reject(doc: dict[str, Any], chrome: int, dup: int) -> dict[str, Any]:
    msg = (f"every paragraph was removed ({chrome} as chrome, {dup} as duplicates "
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


def _check_batch_paragraphs(doc_ids: pa.ChunkedArray, paragraphs: pa.Table, ordered: pa.Table) -> None:
    """Every paragraph of this batch is here once, belongs to one of its documents, and has one fate.

    `ordered`: `paragraphs` sorted by (doc_id, para_idx). Checked on whole columns; only a batch
    that fails is walked row by row, to name its first offending paragraph."""
    if not _paragraphs_ok(doc_ids, ordered):
        _explain_paragraphs(doc_ids.to_pylist(), paragraphs)


def _paragraphs_ok(doc_ids: pa.ChunkedArray, ordered: pa.Table) -> bool:
    status, ids, idx = ordered.column("status"), ordered.column("doc_id"), ordered.column("para_idx")
    if not set(pc.unique(status).to_pylist()) <= {schema.KEPT, schema.REMOVED}:
        return False
    unexplained = pc.or_(_blank(ordered.column("stage")), _blank(ordered.column("reason")))
    if pc.any(pc.and_(pc.equal(status, schema.REMOVED), unexplained)).as_py():
        return False
    n = ordered.num_rows
    if n > 1:  # sorted, so a repeated (doc_id, para_idx) is next to its twin; a null key counts as one
        same = pc.and_(pc.fill_null(pc.equal(ids.slice(1), ids.slice(0, n - 1)), True),
                       pc.fill_null(pc.equal(idx.slice(1), idx.slice(0, n - 1)), True))
        if pc.any(same).as_py():
            return False
    # No orphan paragraph, no document without paragraphs.
    return bool(pc.all(pc.is_in(ids, value_set=doc_ids)).as_py()
                and pc.all(pc.is_in(doc_ids, value_set=ids)).as_py())


def _blank(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Null or empty string: what Python's `not value` says of a stage or reason."""
    return pc.fill_null(pc.equal(values, ""), True)


def _explain_paragraphs(doc_ids: list[str], paragraphs: pa.Table) -> None:
    """Raise the AccountingError that names the first paragraph a batch's check refused."""
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
    ordered = paragraphs.sort_by([("doc_id", "ascending"), ("para_idx", "ascending")])
    _check_batch_paragraphs(documents.column("doc_id"), paragraphs, ordered)
    docs = documents.sort_by([("doc_id", "ascending")])  # stable: as Python's sorted by doc_id
    t = _tally(ordered, docs.column("doc_id"))
    has_text = t.kept > 0
    emptied = [_emptied_reject(doc, int(c), int(d)) for doc, c, d in zip(
        docs.filter(pa.array(~has_text)).to_pylist(), t.chrome[~has_text], t.dup[~has_text], strict=True)]
    articles = _articles(docs.filter(pa.array(has_text)), t, has_text, info)
    emptied_t = pa.Table.from_pylist(emptied, schema=schema.REJECTS)
    counters = {"articles": articles.num_rows, "paragraphs": paragraphs.num_rows,
                "paragraphs_kept": int(t.kept[has_text].sum()), "documents_emptied": len(emptied)}
    return StageResult({"articles": articles, "paragraphs": ordered, "rejects": emptied_t}, emptied_t,
                       counters)


def _articles(docs: pa.Table, t: Tally, keep: np.ndarray, info: RunInfo) -> pa.Table:
    """The articles of `docs` (the documents with kept text, `keep` of the tally's), columns built whole."""
    n = docs.num_rows
    made = {"text": pc.filter(t.text, pa.array(keep)), "n_paragraphs": t.n[keep],
            "n_removed_chrome": t.chrome[keep], "n_removed_duplicate": t.dup[keep], "n_kept": t.kept[keep],
            "strip_guarded": t.guarded[keep], "pipeline_version": [info.pipeline_version] * n,
            "params_hash": [info.params_hash] * n, "rules_hash": [info.rules_hash] * n}
    return schema.table_of(schema.ARTICLES, n, made, docs).combine_chunks()


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


def aligned(docs: Iterator[pa.Table], paras: Iterator[pa.Table]) -> Iterator[tuple[pa.Table, pa.Table]]:
    """Each batch of documents with its paragraphs, both read in stage order (extract wrote them in
    the same document order and later stages keep it), one row group at a time."""
    carry: pa.Table | None = None
    for batch in docs:
        ids = batch.column("doc_id")
        parts = []
        while True:
            carry = carry if carry is not None and carry.num_rows else next(paras, None)
            if carry is None:
                break
            inside = pc.is_in(carry.column("doc_id"), value_set=ids).to_numpy(zero_copy_only=False)
            n = len(inside) if inside.all() else int(np.argmin(inside))
            parts.append(carry.slice(0, n))
            carry = carry.slice(n)
            if carry.num_rows:
                break
        yield batch, pa.concat_tables(parts) if parts else schema.PARAGRAPHS.empty_table()
    rest = next((t for t in [carry, *paras] if t is not None and t.num_rows), None)
    if rest is not None:
        raise AccountingError(f"paragraphs of {rest.column('doc_id')[0].as_py()!r} come after the last "
                              f"document row: a document without a row, or paragraphs out of order")
