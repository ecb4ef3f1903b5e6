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


# Rows of the signature matrix per block of band keys: the block (2 MB at 128 permutations) and
# its uint64 temporaries stay in cache.
_KEY_BLOCK = 4096


def band_keys(sig: np.ndarray, bands: int, rows: int, ids: np.ndarray | None = None) -> np.ndarray:
    """(n, bands) uint64: one key per band of `rows` consecutive signature values, for every
    row of `sig` or for rows `ids` (gathered block by block, never the whole matrix at once)."""
    n = sig.shape[0] if ids is None else len(ids)
    keys = np.empty((n, bands), dtype=np.uint64)
    for lo in range(0, n, _KEY_BLOCK):
        rows_sig = sig[lo:lo + _KEY_BLOCK] if ids is None else sig[ids[lo:lo + _KEY_BLOCK]]
        block = rows_sig[:, :bands * rows].reshape(-1, bands, rows)
        acc = np.zeros(block.shape[:2], dtype=np.uint64)
        for r in range(rows):
            acc += block[:, :, r] * _ROW_MULT[r]  # uint32 * uint64 -> uint64
        keys[lo:lo + _KEY_BLOCK] = fmix64(acc)
    return keys


def _ascending(a: np.ndarray) -> bool:
    return bool(len(a) < 2 or (a[1:] >= a[:-1]).all())


def group_pairs(keys: np.ndarray, ids: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (lo, hi) of ids sharing a key. A group of g ids gives all g(g-1)/2 pairs when
    g <= cap + 1; a larger one pairs each id with the next `cap` in id order (so its members are
    still linked, without g^2 pairs for a key shared by thousands of rows)."""
    # Stable sort: ids that arrive ascending stay ascending within a key.
    order = np.argsort(keys, kind="stable") if _ascending(ids) else np.lexsort((ids, keys))
    return _sorted_group_pairs(keys[order], ids[order], cap)


def _sorted_group_pairs(k: np.ndarray, v: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """group_pairs over keys already sorted, ids ascending within a key."""
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


def id_bits(ids: np.ndarray) -> int:
    """Bits of the largest id: band_pairs packs ids into the low bits of the keys."""
    return max(int(ids.max()).bit_length(), 1) if len(ids) else 1


def band_pairs(keys: np.ndarray, ids: np.ndarray, bits: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (lo, hi) of one band: ids whose keys (uint64, one per id, any order) agree.

    The id is packed into the low `bits` bits of its key (a plain sort, no argsort): the key keeps
    its top 64 - bits bits, and a collision of those only adds a candidate. Pass the same `bits`
    (id_bits of every id) for every band and every shard, so the candidates do not depend on how
    the corpus was cut.
    """
    low = np.uint64((1 << bits) - 1)
    packed = (keys & ~low) | ids.astype(np.uint64)
    packed.sort()
    return _sorted_group_pairs(packed >> np.uint64(bits), (packed & low).astype(np.int64), cap)


def candidates_bands(sig: np.ndarray, ids: np.ndarray, bands: int, rows: int,
                     cap: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs among rows `ids` of `sig` from the numpy band-key group-by."""
    keys = band_keys(sig, bands, rows, ids)
    bits = id_bits(ids)
    parts = [band_pairs(keys[:, j], ids, bits, cap) for j in range(bands)]
    lo = np.concatenate([p[0] for p in parts])
    hi = np.concatenate([p[1] for p in parts])
    return unique_pairs(lo, hi, n)


def candidates_datasketch(sig: np.ndarray, ids: np.ndarray, threshold: float, bands: int, rows: int,
                          seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The same candidates from datasketch's MinHashLSH (insert rows `ids` of `sig`, then query each)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=sig.shape[1], params=(bands, rows))
    sketches = [lean_minhash(sig[i], seed) for i in ids.tolist()]
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
