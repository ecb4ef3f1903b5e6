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


def _key(doc_ids: list[str], idx: list[int], row: int) -> str:
    return f"{doc_ids[row]}:{idx[row]}"


def _copy_marks(dec: Decisions, doc_ids: list[str], idx: list[int], cluster_of: dict[int, int]):
    for row, (surv, exact, sim, jac) in dec.copies.items():
        scope = "within the document" if doc_ids[surv] == doc_ids[row] else "across documents"
        kind = "exact duplicate" if exact else f"near duplicate (Jaccard {jac:.3f} >= threshold)"
        key = _key(doc_ids, idx, surv)
        yield row, {"status": schema.REMOVED, "stage": STAGE, "rule_id": EXACT_RULE if exact else NEAR_RULE,
                    "reason": f"{kind} of {key}, {scope} (cluster {cluster_of[row]})", "dup_of": key,
                    "similarity": round(sim, 6), "jaccard": round(jac, 6)}


def _contained_marks(dec: Decisions, doc_ids: list[str], idx: list[int], p: DedupParams):
    for row, (box, score) in dec.contained.items():
        same = doc_ids[box] == doc_ids[row]
        mark: dict[str, Any] = {"contained_in": _key(doc_ids, idx, box), "containment": round(score, 6)}
        if p.remove_contained_within_document if same else p.remove_contained_across_documents:
            scope = "within the document" if same else "across documents"
            mark.update(status=schema.REMOVED, stage=STAGE, rule_id=CONTAINED_RULE,
                        reason=(f"contained in {mark['contained_in']} ({score:.3f} of its shingles), "
                                f"{scope}"))
        yield row, mark


def _clusters_table(dec: Decisions, doc_ids: list[str], idx: list[int]) -> pa.Table:
    cols: dict[str, list] = {name: [] for name in schema.DUP_CLUSTERS.names}
    for cid, (surv, members) in enumerate(dec.clusters):
        docs = sorted({doc_ids[m] for m in members})
        for name, value in (("cluster_id", cid), ("size", len(members)), ("n_documents", len(docs)),
                            ("survivor", _key(doc_ids, idx, surv)),
                            ("members", [f"{doc_ids[m]}:{idx[m]}" for m in members]), ("documents", docs)):
            cols[name].append(value)
    return pa.table([pa.array(cols[f.name], type=f.type) for f in schema.DUP_CLUSTERS],
                    schema=schema.DUP_CLUSTERS)


@dataclass(frozen=True)
class Marks:
    """What the filter phase writes: a mark (column -> value) per marked row, by input position."""

    by_row: dict[int, dict[str, Any]]
    rows: np.ndarray       # int64: the marked rows, by ascending position
    positions: np.ndarray  # int64: their positions in the input, ascending


def marks_of(decided: Decided, p: DedupParams) -> Marks:
    dec, ix = decided.decisions, decided.index
    cluster_of = {m: cid for cid, (_, members) in enumerate(dec.clusters) for m in members}
    by_row: dict[int, dict[str, Any]] = {r: {"dup_cluster": c} for r, c in cluster_of.items()}
    for row, mark in [*_copy_marks(dec, ix.doc_ids, ix.para_idx, cluster_of),
                      *_contained_marks(dec, ix.doc_ids, ix.para_idx, p)]:
        by_row.setdefault(row, {}).update(mark)
    rows = np.array(sorted(by_row), dtype=np.int64)
    order = np.argsort(ix.positions[rows], kind="stable")
    return Marks(by_row, rows[order], ix.positions[rows][order])


def filter_shard(table: pa.Table, start: int, marks: Marks) -> pa.Table:
    """The filter phase on one shard (input rows start .. start + n): each mark written at its row,
    unmarked rows keep their values; the paragraphs schema, whatever columns came in."""
    lo, hi = np.searchsorted(marks.positions, [start, start + table.num_rows])
    items = [(pos - start, marks.by_row[r]) for pos, r in
             zip(marks.positions[lo:hi].tolist(), marks.rows[lo:hi].tolist(), strict=True)]
    n, data = table.num_rows, {}
    for field_ in schema.PARAGRAPHS:
        name, typ = field_.name, field_.type
        if name not in table.column_names:
            data[name] = pa.nulls(n, typ)
        elif name not in _MARKS:
            data[name] = table.column(name)
        else:
            data[name] = table.column(name).combine_chunks().cast(typ)
        at = [(i, m[name]) for i, m in items if name in m] if name in _MARKS else []
        if at:
            mask = np.zeros(n, dtype=bool)
            mask[[i for i, _ in at]] = True
            values = pa.array([v for _, v in at], type=typ)
            data[name] = pc.replace_with_mask(data[name], pa.array(mask), values)
    return pa.table(data, schema=schema.PARAGRAPHS)


def clusters_table(decided: Decided) -> pa.Table:
    return _clusters_table(decided.decisions, decided.index.doc_ids, decided.index.para_idx)


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
    dec, by_row = decided.decisions, marks.by_row
    removed = [r for r, m in by_row.items() if m.get("stage") == STAGE]
    n_live = decided.index.n_rows
    within = sum(1 for r in removed if "within the document" in by_row[r]["reason"])
    return {
        "paragraphs_in": n_live, "removed": len(removed), "kept": n_live - len(removed),
        "removed_by_rule": dict(sorted(Counter(by_row[r]["rule_id"] for r in removed).items())),
        "removed_within_document": within, "removed_across_documents": len(removed) - within,
        "contained_reported": len(dec.contained), **dec.counters,
    }
