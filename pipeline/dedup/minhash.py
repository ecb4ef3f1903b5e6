"""Word shingles and MinHash signatures, bit-identical to datasketch's "affine32" scheme.

datasketch (>= 2.0) pre-mixes each 32-bit input hash with the MurmurHash3 finaliser and applies
permutations h -> a * h + b in uint32 (the wraparound is the modulo). We draw its `a`, `b` as
`MinHash(num_perm, seed).permutations` does and do the same arithmetic for a whole batch of
shingles at once, so `datasketch.LeanMinHash(seed=seed, hashvalues=sig)` is the same object
datasketch would have built from our 32-bit shingle hashes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from pipeline.dedup.hashing import fmix32, fmix64
from pipeline.dedup.normalise import Tokens

# Odd multipliers that place each word of a shingle (position 0, 1, ...) differently.
_POS = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
                 0x94D049BB133111EB, 0xBF58476D1CE4E5B9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD],
                dtype=np.uint64)
# Shingles per block of the signature computation: a block of 128 uint32 lanes is ~2 MB,
# which stays in cache and bounds the transient memory whatever the corpus size.
_BLOCK = 4096


def shingle_hashes(tokens: Tokens, k: int) -> Tokens:
    """64-bit hashes of each paragraph's word k-grams (one shingle of all words if fewer than k)."""
    if k > len(_POS):
        raise ValueError(f"shingle size {k} > {len(_POS)} is not supported")
    h, counts = tokens.hashes, tokens.counts
    m = len(h)
    # A value per token position: the window of k tokens starting there, kept where the window
    # lies inside one paragraph; a paragraph of 1..k-1 words gets its words at its first position.
    acc = np.zeros(m, dtype=np.uint64)
    valid = np.zeros(m, dtype=bool)
    if m >= k:
        w = m - k + 1
        for t in range(k):
            acc[:w] += h[t:t + w] * _POS[t]
        para = np.repeat(np.arange(len(counts)), counts)
        valid[:w] = para[:w] == para[k - 1:]
    short = np.flatnonzero((counts > 0) & (counts < k))
    if len(short):
        first = tokens.offsets[short]
        acc[first] = 0
        for t in range(k - 1):
            inside = counts[short] > t
            acc[first[inside]] += h[first[inside] + t] * _POS[t]
        valid[first] = True
    n_sh = np.where(counts >= k, counts - k + 1, (counts > 0).astype(np.int64))
    return Tokens(fmix64(acc[valid]), np.concatenate(([0], np.cumsum(n_sh))).astype(np.int64))


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's (a, b) for this num_perm and seed, drawn as its `MinHash` draws them for the
    affine32 scheme (tests/test_dedup_scale.py compares them with datasketch's own): importing
    datasketch for them cost about 0.3 s of every dedup run (it imports scipy)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)  # odd: a bijection
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def to_h32(shingles: np.ndarray) -> np.ndarray:
    """The 32-bit input hash datasketch sees for each shingle (the high half of ours)."""
    return (shingles >> np.uint64(32)).astype(np.uint32)


def _block_ends(offsets: np.ndarray) -> list[int]:
    """Paragraph indices splitting the shingles into blocks of about _BLOCK (whole paragraphs)."""
    n = len(offsets) - 1
    ends, lo = [], 0
    while lo < n:
        hi = int(np.searchsorted(offsets, offsets[lo] + _BLOCK, "right")) - 1
        lo = min(max(hi, lo + 1), n)
        ends.append(lo)
    return ends


def signatures(shingles: Tokens, num_perm: int, seed: int, out: np.ndarray | None = None) -> np.ndarray:
    """(n, num_perm) uint32 signatures (into `out` if given); a paragraph without shingles gets
    the empty value 2^32-1."""
    a, b = permutations(num_perm, seed)
    a, b = a[:, None], b[:, None]
    n = len(shingles.offsets) - 1
    sig = np.empty((n, num_perm), dtype=np.uint32) if out is None else out
    x = fmix32(to_h32(shingles.hashes))
    counts = np.diff(shingles.offsets)
    sig[counts == 0] = np.iinfo(np.uint32).max  # every other row is written below
    # Permutations along rows, shingles along columns: the min over a paragraph's shingles is a
    # reduceat along contiguous memory, several times faster than the transposed layout.
    buf = np.empty((num_perm, _BLOCK), dtype=np.uint32)
    lo = 0
    for hi in _block_ends(shingles.offsets):
        s0, s1 = int(shingles.offsets[lo]), int(shingles.offsets[hi])
        nonempty = np.flatnonzero(counts[lo:hi])
        if len(nonempty):
            width = s1 - s0
            block = buf[:, :width] if width <= _BLOCK else np.empty((num_perm, width), np.uint32)
            np.multiply(a, x[s0:s1], out=block)
            block += b
            mins = np.minimum.reduceat(block, shingles.offsets[lo:hi][nonempty] - s0, axis=1)
            if len(nonempty) == hi - lo:
                sig[lo:hi] = mins.T
            else:
                sig[lo + nonempty] = mins.T
        lo = hi
    return sig


def lean_minhash(sig: np.ndarray, seed: int):  # -> datasketch.LeanMinHash
    """A datasketch LeanMinHash holding one of our signatures."""
    from datasketch import LeanMinHash

    return LeanMinHash(seed=seed, hashvalues=sig, scheme="affine32")
