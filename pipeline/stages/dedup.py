"""Dedup: mark exact and near-duplicate paragraphs, within a document and across the corpus.

Live rows (status kept) are taken in (doc_id, para_idx) order. Exact copies share the hash of
their normalised words; near copies are found by MinHash LSH over word shingles
(`pipeline.dedup`) and each candidate pair is verified by the exact Jaccard of its shingle sets.
Verified pairs are joined into transitive clusters (union-find); one member per cluster survives
by `dedup.survivor` (default: the earliest by (doc_id, para_idx)) and every other member is
marked with `dup_of` = the survivor. A paragraph whose shingles lie mostly inside a longer one is
reported in `contained_in`/`containment`, and removed only if params say so.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import schema
from pipeline.dedup import plan
from pipeline.dedup.decide import Decisions
from pipeline.dedup.minhash import shingle_hashes
from pipeline.dedup.normalise import normalise, tokenise
from pipeline.dedup.phases import RowIndex
from pipeline.dedup.plan import Decided
from pipeline.params import DedupParams
from pipeline.result import StageResult

STAGE = "dedup"
EXACT_RULE = "exact_duplicate_v1"
NEAR_RULE = "near_duplicate_minhash_v1"
CONTAINED_RULE = "contained_paragraph_v1"
_MARKS = ("status", "stage", "rule_id", "reason", "dup_of", "similarity", "jaccard",
          "contained_in", "containment", "dup_cluster")

# progress(phase, k): the stage entered `phase` ("sketch", "candidates", ...) and, while
# sketching, k more paragraphs are done. The runner turns it into a progress bar.
Progress = Callable[[str, int], object]

__all__ = ["CONTAINED_RULE", "EXACT_RULE", "NEAR_RULE", "Progress", "jaccard", "normalise", "run", "shingles"]


def shingles(norm: str, k: int) -> frozenset[str]:
    """Word k-grams of a normalised text as strings (the reference the hashed sets stand for)."""
    toks = norm.split()
    if len(toks) <= k:
        return frozenset([" ".join(toks)])
    return frozenset(" ".join(toks[i:i + k]) for i in range(len(toks) - k + 1))


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def shingle_set(text: str, k: int) -> frozenset[int]:
    """64-bit shingle hashes of one paragraph, as the stage compares them."""
    sh = shingle_hashes(tokenise([text]), k)
    return frozenset(sh.hashes.tolist())


# Marks.rule: what removed a row, if anything.
_NONE, _EXACT, _NEAR, _CONTAINED = 0, 1, 2, 3
_RULE_IDS = {_EXACT: EXACT_RULE, _NEAR: NEAR_RULE, _CONTAINED: CONTAINED_RULE}


def _clusters_table(dec: Decisions, ix: RowIndex) -> pa.Table:
    cols: dict[str, list] = {name: [] for name in schema.DUP_CLUSTERS.names}
    for cid, (surv, members) in enumerate(dec.clusters):
        docs = sorted({ix.doc_names[d] for d in ix.doc[members].tolist()})
        for name, value in (("cluster_id", cid), ("size", len(members)), ("n_documents", len(docs)),
                            ("survivor", ix.key(surv)), ("members", [ix.key(m) for m in members]),
                            ("documents", docs)):
            cols[name].append(value)
    return pa.table([pa.array(cols[f.name], type=f.type) for f in schema.DUP_CLUSTERS],
                    schema=schema.DUP_CLUSTERS)


@dataclass(frozen=True)
class Marks:
    """What the filter phase writes, as arrays over the marked rows by ascending input position (a
    few dozen bytes per marked row): the strings (keys, reasons) are made shard by shard."""

    index: RowIndex
    positions: np.ndarray    # int64: positions in the input, ascending
    rows: np.ndarray         # int64: the marked rows, in that order
    cluster: np.ndarray      # int64: cluster id, -1 if in none
    dup_of: np.ndarray       # int64: survivor row of a copy, -1 if not a copy
    similarity: np.ndarray   # float64 (copies)
    jaccard: np.ndarray      # float64 (copies)
    container: np.ndarray    # int64: row holding most of its shingles, -1 if none
    containment: np.ndarray  # float64 (contained rows)
    rule: np.ndarray         # int8: _NONE or the rule that removed it
    same_doc: np.ndarray     # bool: the copy's survivor or the container is in the same document

    @property
    def removed(self) -> np.ndarray:
        return self.rule != _NONE


def _columns(n: int, rows: np.ndarray, dtype, at: np.ndarray, values) -> np.ndarray:
    out = np.full(n, -1, dtype=dtype)
    out[np.searchsorted(rows, at)] = values
    return out


def marks_of(decided: Decided, p: DedupParams) -> Marks:
    dec, ix = decided.decisions, decided.index
    sizes = np.array([len(m) for _, m in dec.clusters], dtype=np.int64)
    members = np.fromiter((m for _, ms in dec.clusters for m in ms), dtype=np.int64, count=int(sizes.sum()))
    copied = np.fromiter(dec.copies, dtype=np.int64, count=len(dec.copies))
    copy = np.array([v for v in dec.copies.values()], dtype=np.float64).reshape(-1, 4)
    held = np.fromiter(dec.contained, dtype=np.int64, count=len(dec.contained))
    box = np.array([v for v in dec.contained.values()], dtype=np.float64).reshape(-1, 2)
    rows = np.unique(np.concatenate((members, copied, held)))
    n = len(rows)
    cluster = _columns(n, rows, np.int64, members, np.repeat(np.arange(len(sizes)), sizes))
    dup_of = _columns(n, rows, np.int64, copied, copy[:, 0].astype(np.int64))
    similarity, jaccard = (_columns(n, rows, np.float64, copied, copy[:, i]) for i in (2, 3))
    container = _columns(n, rows, np.int64, held, box[:, 0].astype(np.int64))
    containment = _columns(n, rows, np.float64, held, box[:, 1])
    rule = np.where(dup_of < 0, _NONE, _NEAR).astype(np.int8)
    rule[np.searchsorted(rows, copied[copy[:, 1] != 0])] = _EXACT
    other = np.where(dup_of >= 0, dup_of, container)
    same_doc = (other >= 0) & (ix.doc[np.maximum(other, 0)] == ix.doc[rows])
    drop = (container >= 0) & np.where(same_doc, p.remove_contained_within_document,
                                        p.remove_contained_across_documents)
    rule[drop] = _CONTAINED
    order = np.argsort(ix.positions[rows], kind="stable")
    return Marks(ix, ix.positions[rows][order], *(a[order] for a in (
        rows, cluster, dup_of, similarity, jaccard, container, containment, rule, same_doc)))


def _scope(same: bool) -> str:
    return "within the document" if same else "across documents"


def _reason(m: Marks, i: int) -> str:
    ix, rule, same = m.index, int(m.rule[i]), bool(m.same_doc[i])
    if rule == _CONTAINED:
        score = float(m.containment[i])
        return (f"contained in {ix.key(int(m.container[i]))} ({score:.3f} of its shingles), "
                f"{_scope(same)}")
    jac = float(m.jaccard[i])
    kind = "exact duplicate" if rule == _EXACT else f"near duplicate (Jaccard {jac:.3f} >= threshold)"
    return f"{kind} of {ix.key(int(m.dup_of[i]))}, {_scope(same)} (cluster {int(m.cluster[i])})"


def _shard_values(m: Marks, lo: int, hi: int) -> dict[str, tuple[np.ndarray, list]]:
    """column -> (indices into marks lo..hi that set it, their values)."""
    ix, sel = m.index, np.arange(lo, hi)
    out: dict[str, tuple[np.ndarray, list]] = {}
    for name, has, value in (
            ("dup_cluster", m.cluster >= 0, lambda i: int(m.cluster[i])),
            ("status", m.removed, lambda i: schema.REMOVED), ("stage", m.removed, lambda i: STAGE),
            ("rule_id", m.removed, lambda i: _RULE_IDS[int(m.rule[i])]),
            ("reason", m.removed, lambda i: _reason(m, i)),
            ("dup_of", m.dup_of >= 0, lambda i: ix.key(int(m.dup_of[i]))),
            ("similarity", m.dup_of >= 0, lambda i: round(float(m.similarity[i]), 6)),
            ("jaccard", m.dup_of >= 0, lambda i: round(float(m.jaccard[i]), 6)),
            ("contained_in", m.container >= 0, lambda i: ix.key(int(m.container[i]))),
            ("containment", m.container >= 0, lambda i: round(float(m.containment[i]), 6))):
        at = sel[has[lo:hi]]
        out[name] = (at, [value(i) for i in at.tolist()])
    return out


def filter_shard(table: pa.Table, start: int, marks: Marks) -> pa.Table:
    """The filter phase on one shard (input rows start .. start + n): each mark written at its row,
    unmarked rows keep their values; the paragraphs schema, whatever columns came in."""
    lo, hi = np.searchsorted(marks.positions, [start, start + table.num_rows])
    values = _shard_values(marks, int(lo), int(hi))
    n, data = table.num_rows, {}
    for field_ in schema.PARAGRAPHS:
        name, typ = field_.name, field_.type
        if name not in table.column_names:
            data[name] = pa.nulls(n, typ)
        elif name not in _MARKS:
            data[name] = table.column(name)
        else:
            data[name] = table.column(name).combine_chunks().cast(typ)
        if name in values:
            at, vals = values[name]
            data[name] = schema.write_at(data[name], marks.positions[at] - start, vals, typ)
    return pa.table(data, schema=schema.PARAGRAPHS)


def clusters_table(decided: Decided) -> pa.Table:
    return _clusters_table(decided.decisions, decided.index)


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    # The stage builds hundreds of thousands of small containers (shingle sets, marks) and no
    # reference cycles; the cyclic collector would rescan them all several times (~10% of the run).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run(paragraphs: pa.Table, params: DedupParams, documents: pa.Table | None = None,
        progress: Progress | None = None) -> StageResult:
    """Mark copies among kept paragraphs; `documents` (doc_id, date) serves survivor=earliest_date.
    `progress(phase, k)` hears of each phase and of the k kept paragraphs sketched since last.
    The same phases as the sharded entry point (`pipeline.dedup_run`), over the table in memory."""
    progress = progress or (lambda phase, k: None)
    with without_cyclic_gc():
        source = plan.TableSource(paragraphs, params.shard_rows)
        decided = plan.decide_corpus(source, plan.MemoryStore(), params, dates_of(documents), progress)
        progress("marks", 0)
        marks = marks_of(decided, params)
        parts = [filter_shard(shard, start, marks) for start, shard in source.shards()]
        out = pa.concat_tables(parts) if parts else schema.PARAGRAPHS.empty_table()
    mask = pc.fill_null(pc.equal(out.column("stage"), STAGE), False)
    return StageResult({"paragraphs": out, "dup_clusters": clusters_table(decided)}, out.filter(mask),
                       counters(decided, marks))


def dates_of(documents: pa.Table | None) -> dict[str, str | None]:
    if documents is None:
        return {}
    return dict(zip(documents.column("doc_id").to_pylist(), documents.column("date").to_pylist(),
                    strict=True))


def counters(decided: Decided, marks: Marks) -> dict[str, Any]:
    dec, removed = decided.decisions, marks.removed
    n_live, n_removed = decided.index.n_rows, int(removed.sum())
    within = int((removed & marks.same_doc).sum())
    by_rule = Counter(_RULE_IDS[r] for r in marks.rule[removed].tolist())
    return {
        "paragraphs_in": n_live, "removed": n_removed, "kept": n_live - n_removed,
        "removed_by_rule": dict(sorted(by_rule.items())),
        "removed_within_document": within, "removed_across_documents": n_removed - within,
        "contained_reported": len(dec.contained), **dec.counters,
    }
