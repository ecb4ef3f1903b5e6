"""LSH candidates: a numpy group-by over band keys, or datasketch's MinHashLSH for comparison.

Both return the same thing, sorted unique (lo, hi) pairs of row indices whose signatures agree
on every value of at least one band. The numpy backend keys each band by a 64-bit hash of its
`rows` values (a rare key collision only adds a candidate, which verification then rejects).
"""

from __future__ import annotations

import numpy as np

from pipeline.dedup.hashing import fmix64
from pipeline.dedup.minhash import lean_minhash

# Odd multipliers mixing the values of one band into its key.
_ROW_MULT = fmix64(np.arange(1, 257, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64: one key per band of `rows` consecutive signature values."""
    keys = np.zeros((sig.shape[0], bands), dtype=np.uint64)
    for j in range(bands):  # column by column: no (n, bands * rows) uint64 temporary
        acc = keys[:, j]
        for r in range(rows):
            acc += sig[:, j * rows + r].astype(np.uint64) * _ROW_MULT[r]
        keys[:, j] = fmix64(acc)
    return keys


def _ascending(a: np.ndarray) -> bool:
    return bool(len(a) < 2 or (a[1:] >= a[:-1]).all())


def group_pairs(keys: np.ndarray, ids: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (lo, hi) of ids sharing a key. A group of g ids gives all g(g-1)/2 pairs when
    g <= cap + 1; a larger one pairs each id with the next `cap` in id order (so its members are
    still linked, without g^2 pairs for a key shared by thousands of rows)."""
    # Stable sort: ids that arrive ascending stay ascending within a key.
    order = np.argsort(keys, kind="stable") if _ascending(ids) else np.lexsort((ids, keys))
    k, v = keys[order], ids[order]
    eq = k[1:] == k[:-1]
    shared = np.zeros(len(k), dtype=bool)
    shared[1:] |= eq
    shared[:-1] |= eq
    k, v = k[shared], v[shared]
    firsts, seconds = [], []
    for d in range(1, cap + 1):
        if len(k) <= d:
            break
        same = k[:-d] == k[d:]
        if not same.any():
            break
        firsts.append(v[:-d][same])
        seconds.append(v[d:][same])
    if not firsts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a, b = np.concatenate(firsts), np.concatenate(seconds)
    return np.minimum(a, b), np.maximum(a, b)


def unique_pairs(lo: np.ndarray, hi: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    code = np.unique(lo.astype(np.int64) * n + hi)
    return code // n, code % n


def candidates_bands(sig: np.ndarray, ids: np.ndarray, bands: int, rows: int,
                     cap: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs of `ids` (rows of `sig`) from the numpy band-key group-by."""
    keys = band_keys(sig, bands, rows)
    parts = [group_pairs(keys[:, j], ids, cap) for j in range(bands)]
    lo = np.concatenate([p[0] for p in parts])
    hi = np.concatenate([p[1] for p in parts])
    return unique_pairs(lo, hi, n)


def candidates_datasketch(sig: np.ndarray, ids: np.ndarray, threshold: float, bands: int, rows: int,
                          seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The same candidates from datasketch's MinHashLSH (insert every row, then query each)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=sig.shape[1], params=(bands, rows))
    sketches = [lean_minhash(s, seed) for s in sig]
    for i, m in zip(ids.tolist(), sketches, strict=True):
        lsh.insert(i, m)
    lo: list[int] = []
    hi: list[int] = []
    for i, m in zip(ids.tolist(), sketches, strict=True):
        for j in lsh.query(m):
            if j > i:
                lo.append(i)
                hi.append(j)
    return unique_pairs(np.array(lo, np.int64), np.array(hi, np.int64), n)
