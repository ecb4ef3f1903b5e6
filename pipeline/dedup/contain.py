"""Containment candidates from sampled shingles, without pairing every two rows that share one.

A row A is a candidate to lie inside a longer row B when B holds at least half of A's sampled
shingles (counting only shingles held by at most cap + 1 samples: a very common one proves
nothing). Pairing every two rows that share a sample costs the sum of squared group sizes, which
grows with the square of the corpus until the cap bites. Pigeonhole avoids it: if B must hold
`need` of A's u usable samples, B holds at least one of any u - need + 1 of them, so A only
looks at the holders of that many of its samples, its rarest (a sample no other row holds
leads nowhere, and most rows have enough of those to stop there). Each pair found that way is
then counted exactly: for each sample of A, does B hold it too?
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.dedup import packed
from pipeline.dedup.sketch import RowStats


@dataclass(frozen=True)
class _Index:
    key: np.ndarray     # uint64 (hash << 32 | row) of every live sample, sorted
    starts: np.ndarray  # int64: where each hash group starts in key
    size: np.ndarray    # int32 per sorted sample: the size of its hash group

    def rows(self, pos: np.ndarray) -> np.ndarray:
        return packed.low(self.key[pos])


def _index(h: np.ndarray, r: np.ndarray) -> _Index:
    key = np.sort(packed.pack(h, r))
    hs = packed.high(key)
    new = np.ones(len(key), dtype=bool)
    new[1:] = hs[1:] != hs[:-1]
    del hs
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, len(key))).astype(np.int32)
    return _Index(key, starts, np.repeat(sizes, sizes))


def _picked(ix: _Index, need: np.ndarray, cap: int) -> np.ndarray:
    """Sorted positions of the samples rows look up: each row's u - need + 1 rarest usable ones,
    leaving out samples no other row holds (they lead nowhere)."""
    n = len(need)
    rows = ix.rows(np.arange(len(ix.key)))
    usable = ix.size <= cap + 1
    u = np.bincount(rows[usable], minlength=n)
    singles = np.bincount(rows[ix.size == 1], minlength=n)
    # How many shared samples a row must still look up once its singles are counted.
    more = np.where(u >= need, u - need + 1, 0) - singles
    pos = np.flatnonzero(usable & (ix.size >= 2) & (more[rows] > 0))
    rows = rows[pos]
    bits = np.uint64((cap + 1).bit_length())
    order = np.argsort((rows.astype(np.uint64) << bits) | ix.size[pos].astype(np.uint64), kind="stable")
    pos, rows = pos[order], rows[order]
    rank = np.arange(len(pos)) - np.searchsorted(rows, rows)  # place among its row's samples
    return pos[rank < more[rows]]


def _pairs(ix: _Index, picked: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique (A, B), A != B: the row of each picked sample and every other row holding its hash."""
    g = ix.size[picked].astype(np.int64)
    start = ix.starts[np.searchsorted(ix.starts, picked, "right") - 1]
    a = np.repeat(ix.rows(picked), g)
    b = ix.rows(packed.spans(start, g))
    code = np.unique(a[a != b] * n + b[a != b])
    return code // n, code % n


def _shared(ix: _Index, h: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray,
            cap: int) -> np.ndarray:
    """For each pair, how many of A's usable samples B holds too (h: samples in row order)."""
    cnt = offsets[a + 1] - offsets[a]
    pair = np.repeat(np.arange(len(a)), cnt)
    sample = packed.spans(offsets[a], cnt)
    found, pos = packed.find(ix.key, packed.pack(h[sample], b[pair]))
    hit = found & (ix.size[pos] <= cap + 1)
    return np.bincount(pair[hit], minlength=len(a))


def candidates(sk: RowStats, alive: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """(small, big): live rows with fewer shingles than a live row holding at least half of
    their sampled shingles."""
    n = len(alive)
    if n >= 1 << 32:
        raise ValueError("containment search packs row numbers in 32 bits: shard the corpus")
    rows = sk.sample_row
    keep = alive[rows]
    h, r = sk.sample_hash[keep], rows[keep]
    del rows, keep
    if not len(h):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    offsets = np.concatenate(([0], np.cumsum(np.bincount(r, minlength=n))))
    ix = _index(h, r)
    del r
    need = (sk.n_sampled * alive + 1) // 2  # at least half, rounded up
    a, b = _pairs(ix, _picked(ix, need, cap), n)
    keep = sk.n_shingles[a] < sk.n_shingles[b]
    a, b = a[keep], b[keep]
    ok = 2 * _shared(ix, h, offsets, a, b, cap) >= sk.n_sampled[a]
    return a[ok], b[ok]
