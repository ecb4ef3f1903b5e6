"""From sketches to decisions: candidate pairs, exact verification, clusters, survivors, containment.

Rows are indices into the live paragraphs in (doc_id, para_idx) order. Every near pair is checked
by the exact Jaccard of its shingle sets before it joins a cluster; clusters are the connected
components of the verified pairs (union-find), so they are transitive and do not depend on the
order in which pairs were found. Each cluster keeps one survivor, chosen by `rank` (lowest wins).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pipeline.dedup import contain, overlap
from pipeline.dedup.bands import group_pairs, unique_pairs
from pipeline.dedup.normalise import PUNCTUATION
from pipeline.dedup.sketch import RowStats, sketch
from pipeline.dedup.unionfind import UnionFind
from pipeline.params import DedupParams


@dataclass
class Decisions:
    # removed row -> (survivor row, is exact copy, similarity estimate, exact Jaccard)
    copies: dict[int, tuple[int, bool, float, float]] = field(default_factory=dict)
    clusters: list[tuple[int, list[int]]] = field(default_factory=list)  # (survivor, members)
    contained: dict[int, tuple[int, float]] = field(default_factory=dict)  # row -> (container, score)
    counters: dict[str, int] = field(default_factory=dict)


# The texts of global rows (sorted, unique), however the driver finds them (a table, shard files).
TextsOf = Callable[[np.ndarray], list[str]]
# Near-duplicate candidate pairs (lo, hi) among the given MinHash rows (LSH over their band keys).
Candidates = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
# Containment counts counted ahead (`pipeline.dedup.known`): (small rows, big rows) -> (which pairs
# it has, their |A & B|, their |A|), or None if there are none (yet).
Known = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray] | None]


# Pairs whose shingle sets are built at once (`overlap.SetTable`), so memory is bounded by a chunk
# whatever the number of candidates: counting the 19,111 containment pairs of the 804 development
# pages in chunks of this size peaked at 33 MB (tracemalloc), 15 MB in chunks of 4,096.
PAIR_CHUNK = 16384


class _Sets:
    """The texts of the rows one step needs (one read), and the overlaps of their shingle sets."""

    def __init__(self, texts_of: TextsOf, rows: np.ndarray, k: int) -> None:
        need = np.unique(rows)
        self._texts = dict(zip(need.tolist(), texts_of(need) if len(need) else [], strict=True))
        self._k = k

    def text(self, row: int) -> str:
        return self._texts[row]

    def overlaps(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(|A & B|, |A|, |B|) of each pair (lo[i], hi[i]), int64 arrays."""
        parts = []
        for start in range(0, len(lo), PAIR_CHUNK):
            a, b = lo[start:start + PAIR_CHUNK], hi[start:start + PAIR_CHUNK]
            rows, at = np.unique(np.concatenate((a, b)), return_inverse=True)
            table = overlap.set_table([self._texts[r] for r in rows.tolist()], self._k)
            ia, ib = at[:len(a)], at[len(a):]
            parts.append((overlap.intersections(table, ia, ib), table.sizes[ia], table.sizes[ib]))
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        inter, size_lo, size_hi = (np.concatenate(c) for c in zip(*parts, strict=True))
        return inter, size_lo, size_hi


def _in_scope(lo: np.ndarray, hi: np.ndarray, doc: np.ndarray, scope: str) -> np.ndarray:
    if scope == "within_document":
        return doc[lo] == doc[hi]
    if scope == "across_documents":
        return doc[lo] != doc[hi]
    return np.ones(len(lo), dtype=bool)


def _copy_pair(lo: np.ndarray, hi: np.ndarray, doc: np.ndarray, n_words: np.ndarray,
               p: DedupParams) -> np.ndarray:
    """Which pairs may be copies: in scope, and within one document only if both paragraphs have
    within_document_min_words words (short structural repeats, e.g. a questionnaire's, stay)."""
    keep = _in_scope(lo, hi, doc, p.scope)
    if p.within_document_min_words:
        long = (n_words[lo] >= p.within_document_min_words) & (n_words[hi] >= p.within_document_min_words)
        keep &= (doc[lo] != doc[hi]) | long
    return keep


def _exact_pairs(sk: RowStats, eligible: np.ndarray, doc: np.ndarray, p: DedupParams):
    rows = np.flatnonzero(eligible)
    lo, hi = group_pairs(sk.exact[rows], rows.astype(np.int64), p.bucket_cap)
    keep = _copy_pair(lo, hi, doc, sk.n_words, p)
    return lo[keep], hi[keep]


def _representatives(sk: RowStats, eligible: np.ndarray, p: DedupParams) -> np.ndarray:
    """Indices into sk.mh_rows of the rows that enter LSH: with scope `both`, one per exact key
    (its copies are already linked); otherwise all, since an exact copy may be out of scope.
    Short copies within one document are not linked (within_document_min_words), so every row of a
    short key enters LSH on its own."""
    ok = eligible[sk.mh_rows]
    if p.scope != "both":
        return np.flatnonzero(ok)
    idx = np.flatnonzero(ok)
    rows = sk.mh_rows[idx]
    group = np.where(sk.n_words[rows] < p.within_document_min_words, rows, -1)
    order = np.lexsort((idx, group, sk.exact[rows]))  # by key, then group, then row
    key, grp = sk.exact[rows][order], group[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (key[1:] != key[:-1]) | (grp[1:] != grp[:-1])
    return np.sort(idx[order[first]])


def _near_pairs(candidates: Candidates, sk: RowStats, reps, doc, p, texts_of: TextsOf, counters):
    lo, hi = candidates(sk.mh_rows[reps])
    keep = _copy_pair(lo, hi, doc, sk.n_words, p)
    lo, hi = lo[keep], hi[keep]
    sets = _Sets(texts_of, np.concatenate((lo, hi)), p.shingle_size)
    ok = overlap.jaccards(*sets.overlaps(lo, hi)) >= p.threshold
    counters["candidates_checked"] = len(lo)
    counters["candidates_rejected_by_verification"] = len(lo) - int(ok.sum())
    if p.numbers_must_agree and len(lo):
        verified, numbers = int(ok.sum()), {}
        for i in np.flatnonzero(ok).tolist():
            a, b = int(lo[i]), int(hi[i])
            for r in (a, b):
                if r not in numbers:
                    numbers[r] = _numbers(sets.text(r))
            ok[i] = numbers[a] == numbers[b]
        counters["candidates_rejected_by_numbers"] = verified - int(ok.sum())
    return lo[ok], hi[ok]


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NON_DIGIT = re.compile(r"\D")
_ASCII_NON_DIGITS = bytes(b for b in range(128) if not chr(b).isdigit())


def _numbers(text: str) -> list[str]:
    """The numbers of a paragraph in order, digits only ("1,300" and "1.300" are one number)."""
    plain = text if text.isascii() else PUNCTUATION.sub("", text)
    if plain.isascii() and not plain.encode("ascii").translate(None, _ASCII_NON_DIGITS):
        return []  # no digit at all, found by C passes instead of the slower regex
    return [_NON_DIGIT.sub("", m) for m in _NUMBER.findall(text)]


def _copies(clusters, sk: RowStats, rank: np.ndarray, texts_of: TextsOf, p: DedupParams,
            out: Decisions) -> None:
    near: list[tuple[int, int]] = []  # (member, survivor) of near copies, verified below in one go
    rank_of = rank.tolist()
    for members in clusters:
        survivor = min(members, key=lambda r: (rank_of[r], r))
        out.clusters.append((survivor, members))
        for m in members:
            if m == survivor:
                continue
            if sk.exact[m] == sk.exact[survivor]:
                out.copies[m] = (survivor, True, 1.0, 1.0)
            else:
                out.copies[m] = (survivor, False, 0.0, 0.0)  # filled in below, keeping row order
                near.append((m, survivor))
    if not near:
        return
    m_rows, s_rows = (np.array(c, dtype=np.int64) for c in zip(*near, strict=True))
    sets = _Sets(texts_of, np.concatenate((m_rows, s_rows)), p.shingle_size)
    jac = overlap.jaccards(*sets.overlaps(m_rows, s_rows))
    for start in range(0, len(m_rows), PAIR_CHUNK):
        ms, ss = m_rows[start:start + PAIR_CHUNK], s_rows[start:start + PAIR_CHUNK]
        # Signatures are not kept past their shard: rebuilt here for these rows only (same values).
        both = np.unique(np.concatenate((ms, ss)))
        sig = sketch([sets.text(r) for r in both.tolist()], p.shingle_size, p.num_perm, p.seed,
                     p.minhash_min_words).sig
        sims = (sig[np.searchsorted(both, ms)] == sig[np.searchsorted(both, ss)]).mean(axis=1)
        for m, survivor, sim, j in zip(ms.tolist(), ss.tolist(), sims.tolist(),
                                       jac[start:start + PAIR_CHUNK].tolist(), strict=True):
            out.copies[m] = (survivor, False, sim, j)


def contain_counts(texts_of: TextsOf, small: np.ndarray, big: np.ndarray, k: int,
                   known: Known | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(|A & B|, |A|) of each pair (A = small[i], B = big[i]): from `known` for the pairs it has
    (asked once), counted from the texts for the others."""
    inter, size = np.zeros(len(small), np.int64), np.zeros(len(small), np.int64)
    todo = np.ones(len(small), dtype=bool)
    got = known(small, big) if known is not None and len(small) else None
    if got is not None:
        found = got[0]
        inter[found], size[found] = got[1], got[2]
        todo = ~found
    lo, hi = small[todo], big[todo]
    counted, counted_size, _ = _Sets(texts_of, np.concatenate((lo, hi)), k).overlaps(lo, hi)
    inter[todo], size[todo] = counted, counted_size
    return inter, size


def _containment(sk: RowStats, alive: np.ndarray, doc: np.ndarray, p: DedupParams, texts_of: TextsOf,
                 known: Known | None = None):
    """row -> (container, score) for rows whose shingles lie mostly inside a longer live row."""
    small, big = contain.candidates(sk, alive, p.bucket_cap)
    ok = _in_scope(small, big, doc, p.scope)
    small, big = small[ok], big[ok]
    score = overlap.containments(*contain_counts(texts_of, small, big, p.shingle_size, known))
    ok = score >= p.containment_threshold
    small, big, score = small[ok], big[ok], score[ok]
    # Each row's best container: the highest score, then the lowest row.
    order = np.lexsort((big, -score, small))
    first = np.ones(len(order), dtype=bool)
    first[1:] = small[order][1:] != small[order][:-1]
    best = order[first]
    return dict(zip(small[best].tolist(), zip(big[best].tolist(), score[best].tolist(), strict=True),
                    strict=True))


def decide(sk: RowStats, doc: np.ndarray, rank: np.ndarray, p: DedupParams, candidates: Candidates,
           texts_of: TextsOf, phase: Callable[[str], object] | None = None,
           known: Known | None = None) -> Decisions:
    """Every decision for the live rows: copies with their survivor, clusters, containment.

    The merge phase: it holds the pairs and a few numbers per row (`sk`), asks `candidates` for
    the LSH pairs and `texts_of` for the texts of the rows in pairs only (three batches: near
    candidates, near copies and their survivors, containment candidates).
    `phase(name)` hears of each step as it starts (for a progress bar); `known`: containment
    counts worked out ahead, if any."""
    phase = phase or (lambda name: None)
    out = Decisions()
    out.counters.update(candidates_checked=0, candidates_rejected_by_verification=0)
    n = len(sk.n_words)
    eligible = sk.n_words >= p.min_words
    phase("candidates")
    ex_lo, ex_hi = _exact_pairs(sk, eligible, doc, p)
    reps = _representatives(sk, eligible, p)
    nr_lo, nr_hi = _near_pairs(candidates, sk, reps, doc, p, texts_of, out.counters)
    lo, hi = unique_pairs(np.concatenate((ex_lo, nr_lo)), np.concatenate((ex_hi, nr_hi)), n)
    phase("clusters")
    uf = UnionFind()
    uf.union_all(zip(lo.tolist(), hi.tolist(), strict=True))
    _copies(uf.clusters(), sk, rank, texts_of, p, out)
    alive = eligible.copy()
    alive[list(out.copies)] = False
    phase("containment")
    out.contained = _containment(sk, alive, doc, p, texts_of, known)
    out.counters["clusters"] = len(out.clusters)
    out.counters["skipped_below_min_words"] = int((~eligible).sum())
    return out
