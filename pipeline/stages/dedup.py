"""Dedup: mark exact and near-duplicate paragraphs, within a document and across the corpus.

Order is (doc_id, para_idx): the first occurrence survives and every copy points at it. Exact
copies (same normalised text) are found by hash; near copies by MinHash LSH (datasketch), each
candidate verified by the exact Jaccard of its shingle sets before it is called a duplicate.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline import schema, textutil
from pipeline.params import DedupParams
from pipeline.result import StageResult

STAGE = "dedup"
EXACT_RULE = "exact_duplicate_v1"
NEAR_RULE = "near_duplicate_minhash_v1"


@dataclass(frozen=True)
class Match:
    key: str
    rule_id: str
    similarity: float
    jaccard: float


def shingles(norm: str, k: int) -> frozenset[str]:
    toks = norm.split()
    if len(toks) <= k:
        return frozenset([" ".join(toks)])
    return frozenset(" ".join(toks[i:i + k]) for i in range(len(toks) - k + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


class _Index:
    """Survivors seen so far: an exact-hash map and a MinHash LSH over their shingles."""

    def __init__(self, params: DedupParams) -> None:
        from datasketch import MinHash, MinHashLSH  # heavy import, paid only by this stage

        self._minhash = MinHash
        self.params = params
        bands = (params.lsh_bands, params.lsh_rows) if params.lsh_bands else None
        self.lsh = MinHashLSH(threshold=params.threshold, num_perm=params.num_perm, params=bands)
        self.exact: dict[str, str] = {}
        self.survivors: dict[str, tuple[int, frozenset[str], Any]] = {}
        self.candidates_checked = 0
        self.candidates_rejected = 0

    def signature(self, sh: frozenset[str]) -> Any:
        m = self._minhash(num_perm=self.params.num_perm, seed=self.params.seed)
        m.update_batch([s.encode("utf-8") for s in sorted(sh)])
        return m

    def find(self, norm: str, order: int) -> tuple[Match | None, tuple | None]:
        digest = hashlib.sha1(norm.encode("utf-8")).hexdigest()
        if digest in self.exact:
            return Match(self.exact[digest], EXACT_RULE, 1.0, 1.0), None
        if len(norm.split()) < self.params.minhash_min_words:
            return None, (digest, None, None)
        sh = shingles(norm, self.params.shingle_size)
        sig = self.signature(sh)
        best: Match | None = None
        best_order = order
        for key in sorted(self.lsh.query(sig)):
            self.candidates_checked += 1
            s_order, s_sh, s_sig = self.survivors[key]
            j = jaccard(sh, s_sh)
            if j < self.params.threshold:
                self.candidates_rejected += 1
                continue
            if best is None or j > best.jaccard or (j == best.jaccard and s_order < best_order):
                best, best_order = Match(key, NEAR_RULE, sig.jaccard(s_sig), j), s_order
        return best, (digest, sh, sig)

    def add(self, key: str, order: int, entry: tuple) -> None:
        digest, sh, sig = entry
        self.exact[digest] = key
        if sh is not None:
            self.survivors[key] = (order, sh, sig)
            self.lsh.insert(key, sig)


def _mark(row: dict[str, Any], match: Match) -> None:
    same_doc = match.key.rsplit(":", 1)[0] == row["doc_id"]
    scope = "within the document" if same_doc else "across documents"
    kind = "exact duplicate" if match.rule_id == EXACT_RULE else (
        f"near duplicate (Jaccard {match.jaccard:.3f} >= threshold)")
    row.update(status=schema.REMOVED, stage=STAGE, rule_id=match.rule_id,
               reason=f"{kind} of {match.key}, {scope}", dup_of=match.key,
               similarity=round(match.similarity, 6), jaccard=round(match.jaccard, 6))


def run(paragraphs: pa.Table, params: DedupParams) -> StageResult:
    """Mark copies among kept paragraphs; the earliest by (doc_id, para_idx) survives."""
    rows = paragraphs.to_pylist()
    live = sorted((r for r in rows if r["status"] == schema.KEPT),
                  key=lambda r: (r["doc_id"], r["para_idx"]))
    index = _Index(params)
    for order, row in enumerate(live):
        norm = textutil.normalise(row["text"])
        if not norm:
            continue  # punctuation-only lines carry no words to compare
        match, entry = index.find(norm, order)
        if match is not None:
            _mark(row, match)
        else:
            index.add(f"{row['doc_id']}:{row['para_idx']}", order, entry)
    out = pa.Table.from_pylist(rows, schema=schema.PARAGRAPHS)
    mask = pc.fill_null(pc.equal(out.column("stage"), STAGE), False)
    removed = [r for r in live if r["stage"] == STAGE]
    counters = {
        "paragraphs_in": len(live), "removed": len(removed), "kept": len(live) - len(removed),
        "removed_by_rule": dict(sorted(Counter(r["rule_id"] for r in removed).items())),
        "removed_within_document": sum(1 for r in removed if "within" in r["reason"]),
        "removed_across_documents": sum(1 for r in removed if "across" in r["reason"]),
        "candidates_checked": index.candidates_checked,
        "candidates_rejected_by_verification": index.candidates_rejected,
    }
    return StageResult({"paragraphs": out}, out.filter(mask), counters)
