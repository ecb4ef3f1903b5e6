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
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import schema
from pipeline.dedup.decide import Decisions, decide
from pipeline.dedup.minhash import shingle_hashes
from pipeline.dedup.normalise import normalise, tokenise
from pipeline.dedup.sketch import sketch
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


def _rank(policy: str, doc_ids: list[str], texts: list[str],
          dates: dict[str, str | None]) -> np.ndarray:
    """Survivor rank of each live row (lower survives; ties go to the earliest row)."""
    n = len(doc_ids)
    if policy == "first":
        return np.zeros(n, dtype=np.int64)
    if policy == "longest_document":
        size: Counter = Counter()
        for d, t in zip(doc_ids, texts, strict=True):
            size[d] += len(t)
        return np.array([-size[d] for d in doc_ids], dtype=np.int64)
    # earliest_date: ISO dates sort as strings; a document without a date comes last.
    order = sorted({dates.get(d) or "~" for d in doc_ids})
    pos = {v: i for i, v in enumerate(order)}
    return np.array([pos[dates.get(d) or "~"] for d in doc_ids], dtype=np.int64)


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


def _apply(table: pa.Table, positions: np.ndarray, marks: dict[int, dict[str, Any]]) -> pa.Table:
    """The paragraphs table with each mark written at its row; unmarked rows keep their values."""
    n, data = table.num_rows, {}
    at_row = positions.tolist()
    items = sorted((at_row[r], m) for r, m in marks.items())  # in table order, as replace_with_mask wants
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


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
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
    `progress(phase, k)` hears of each phase and of the k kept paragraphs sketched since last."""
    with _without_cyclic_gc():
        return _run(paragraphs, params, documents, progress or (lambda phase, k: None))


def _run(paragraphs: pa.Table, params: DedupParams, documents: pa.Table | None,
         progress: Progress) -> StageResult:
    status = paragraphs.column("status").to_numpy(zero_copy_only=False)
    live = np.flatnonzero(status == schema.KEPT)
    keys = paragraphs.select(["doc_id", "para_idx"]).take(pa.array(live))
    order = pc.sort_indices(keys, [("doc_id", "ascending"), ("para_idx", "ascending")]).to_numpy()
    positions = live[order]
    sub = paragraphs.select(["doc_id", "para_idx", "text"]).take(pa.array(positions))  # one copy of the text
    doc_ids, idx, texts = (sub.column(c).to_pylist() for c in ("doc_id", "para_idx", "text"))
    doc = pc.dictionary_encode(sub.column("doc_id")).combine_chunks().indices.to_numpy()
    dates = {} if documents is None else dict(zip(documents.column("doc_id").to_pylist(),
                                                  documents.column("date").to_pylist(), strict=True))
    p = params
    sk = sketch(texts, p.shingle_size, p.num_perm, p.seed, p.minhash_min_words,
                tick=lambda k: progress("sketch", k))
    dec = decide(texts, doc, sk, _rank(p.survivor, doc_ids, texts, dates), p,
                 phase=lambda name: progress(name, 0))
    progress("marks", 0)
    cluster_of = {m: cid for cid, (_, members) in enumerate(dec.clusters) for m in members}
    marks: dict[int, dict[str, Any]] = {r: {"dup_cluster": c} for r, c in cluster_of.items()}
    for row, mark in [*_copy_marks(dec, doc_ids, idx, cluster_of), *_contained_marks(dec, doc_ids, idx, p)]:
        marks.setdefault(row, {}).update(mark)
    out = _apply(paragraphs, positions, marks)
    removed_rows = sorted(r for r, m in marks.items() if m.get("stage") == STAGE)
    mask = pc.fill_null(pc.equal(out.column("stage"), STAGE), False)
    return StageResult({"paragraphs": out, "dup_clusters": _clusters_table(dec, doc_ids, idx)},
                       out.filter(mask), _counters(len(live), removed_rows, marks, doc_ids, dec))


def _counters(n_live: int, removed: list[int], marks: dict[int, dict[str, Any]], doc_ids: list[str],
              dec: Decisions) -> dict[str, Any]:
    within = sum(1 for r in removed if "within the document" in marks[r]["reason"])
    return {
        "paragraphs_in": n_live, "removed": len(removed), "kept": n_live - len(removed),
        "removed_by_rule": dict(sorted(Counter(marks[r]["rule_id"] for r in removed).items())),
        "removed_within_document": within, "removed_across_documents": len(removed) - within,
        "contained_reported": len(dec.contained), **dec.counters,
    }
