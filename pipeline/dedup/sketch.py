"""Pass over the texts in chunks: word counts, exact keys, MinHash signatures, sampled shingles.

Only these small per-paragraph values are kept (a signature is num_perm uint32, 512 bytes at
128); the shingle sets are rebuilt later for the few paragraphs that are candidates, so memory
grows with the signatures, not with the text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.dedup.hashing import fmix64, segment_hash
from pipeline.dedup.minhash import shingle_hashes, signatures
from pipeline.dedup.normalise import tokenise

# Paragraphs per chunk: arrays of a few MB stay in cache and reuse the allocator's memory.
CHUNK = 1024
# A shingle is kept for containment search when its hash is 0 mod SAMPLE (a power of two): the
# same shingles are sampled in every paragraph, so a contained paragraph's samples all reappear
# in its container.
SAMPLE = 4


@dataclass(frozen=True)
class Sketches:
    n_words: np.ndarray      # int32 per row
    exact: np.ndarray        # uint64 per row: hash of the normalised word sequence
    mh_rows: np.ndarray      # int64: rows with at least minhash_min_words words
    sig: np.ndarray          # (rows, num_perm) uint32; meaningful for mh_rows only
    n_shingles: np.ndarray   # int32 per row
    # Sampled shingles of mh_rows, row after row: the high 32 bits of each (a collision between
    # two distinct shingles only adds a containment candidate, which verification then rejects).
    sample_hash: np.ndarray  # uint32
    n_sampled: np.ndarray    # int32 per row: how many of sample_hash belong to it

    @property
    def sample_row(self) -> np.ndarray:
        """The row each sampled shingle belongs to (int64, built on demand)."""
        return np.repeat(np.arange(len(self.n_sampled)), self.n_sampled)


@dataclass(frozen=True)
class RowStats:
    """The small per-row values of every live row that the corpus-wide decisions need (no
    signatures: those stay with their shard). Rows are global, in (doc_id, para_idx) order."""

    n_words: np.ndarray      # int32
    exact: np.ndarray        # uint64
    mh_rows: np.ndarray      # int64: rows with at least minhash_min_words words
    n_shingles: np.ndarray   # int32
    n_chars: np.ndarray      # int64: text length (survivor=longest_document)
    sample_hash: np.ndarray  # uint32, row after row, as in Sketches
    n_sampled: np.ndarray    # int32

    @property
    def sample_row(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.n_sampled)), self.n_sampled)


def sketch(texts: list[str], shingle_size: int, num_perm: int, seed: int, minhash_min_words: int,
           tick: Callable[[int], object] | None = None) -> Sketches:
    """Sketches of every text; `tick(k)` (a progress bar's update) after each chunk of k texts."""
    n = len(texts)
    # Filled in place: a list of chunks then a concatenation would hold everything twice.
    sig = np.empty((n, num_perm), dtype=np.uint32)
    n_words, n_shingles, n_sampled = (np.zeros(n, dtype=np.int32) for _ in range(3))
    exact = np.zeros(n, dtype=np.uint64)
    samples: list[np.ndarray] = []
    for lo in range(0, n, CHUNK):
        tokens = tokenise(texts[lo:lo + CHUNK])
        counts = tokens.counts
        hi = lo + len(counts)
        n_words[lo:hi] = counts
        exact[lo:hi] = fmix64(segment_hash(tokens.hashes, tokens.offsets[:-1], tokens.offsets[1:]))
        shingles = shingle_hashes(tokens, shingle_size)
        n_sh = np.diff(shingles.offsets)
        n_shingles[lo:hi] = n_sh
        signatures(shingles, num_perm, seed, out=sig[lo:hi])
        owner = np.repeat(counts >= minhash_min_words, n_sh)
        keep = ((shingles.hashes & np.uint64(SAMPLE - 1)) == 0) & owner
        samples.append((shingles.hashes[keep] >> np.uint64(32)).astype(np.uint32))
        kept_before = np.concatenate(([0], np.cumsum(keep)))
        n_sampled[lo:hi] = kept_before[shingles.offsets[1:]] - kept_before[shingles.offsets[:-1]]
        if tick is not None:
            tick(hi - lo)
    mh_rows = np.flatnonzero(n_words >= minhash_min_words)
    sample_hash = np.concatenate(samples) if samples else np.zeros(0, np.uint32)
    return Sketches(n_words, exact, mh_rows, sig, n_shingles, sample_hash, n_sampled)

