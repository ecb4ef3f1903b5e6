"""Pass over the texts in chunks: word counts, exact keys, MinHash signatures, sampled shingles.

Only these small per-paragraph values are kept (a signature is num_perm uint32, 512 bytes at
128); the shingle sets are rebuilt later for the few paragraphs that are candidates, so memory
grows with the signatures, not with the text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.dedup.hashing import fmix64, segment_hash
from pipeline.dedup.minhash import shingle_hashes, signatures
from pipeline.dedup.normalise import tokenise

# Paragraphs per chunk: arrays of a few MB stay in cache and reuse the allocator's memory.
CHUNK = 1024
# A shingle is kept for containment search when its hash is 0 mod SAMPLE: the same shingles are
# sampled in every paragraph, so a contained paragraph's samples all reappear in its container.
SAMPLE = 4


@dataclass(frozen=True)
class Sketches:
    n_words: np.ndarray      # int32 per row
    exact: np.ndarray        # uint64 per row: hash of the normalised word sequence
    mh_rows: np.ndarray      # int64: rows with at least minhash_min_words words
    sig: np.ndarray          # (rows, num_perm) uint32; meaningful for mh_rows only
    n_shingles: np.ndarray   # int32 per row
    sample_hash: np.ndarray  # uint64: sampled shingles of mh_rows ...
    sample_row: np.ndarray   # int64: ... and the row each belongs to


def sketch(texts: list[str], shingle_size: int, num_perm: int, seed: int,
           minhash_min_words: int) -> Sketches:
    parts: dict[str, list[np.ndarray]] = {k: [] for k in
                                          ("n_words", "exact", "mh", "nsh", "sh", "sr")}
    # Filled in place: a list of chunks then a concatenation would hold every signature twice.
    sig = np.empty((len(texts), num_perm), dtype=np.uint32)
    for lo in range(0, len(texts), CHUNK):
        tokens = tokenise(texts[lo:lo + CHUNK])
        counts = tokens.counts
        parts["n_words"].append(counts.astype(np.int32))
        parts["exact"].append(fmix64(segment_hash(tokens.hashes, tokens.offsets[:-1], tokens.offsets[1:])))
        shingles = shingle_hashes(tokens, shingle_size)
        parts["nsh"].append(np.diff(shingles.offsets).astype(np.int32))
        mh = np.flatnonzero(counts >= minhash_min_words)
        parts["mh"].append(mh + lo)
        sig[lo:lo + len(counts)] = signatures(shingles, num_perm, seed)
        owner = np.repeat(np.arange(len(counts)), np.diff(shingles.offsets))
        keep = ((shingles.hashes % np.uint64(SAMPLE)) == 0) & (counts[owner] >= minhash_min_words)
        parts["sh"].append(shingles.hashes[keep])
        parts["sr"].append(owner[keep] + lo)
    if not texts:
        z = np.zeros(0, np.int64)
        return Sketches(z.astype(np.int32), z.astype(np.uint64), z,
                        np.zeros((0, num_perm), np.uint32), z.astype(np.int32), z.astype(np.uint64), z)
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    return Sketches(cat["n_words"], cat["exact"], cat["mh"].astype(np.int64), sig, cat["nsh"],
                    cat["sh"], cat["sr"].astype(np.int64))


def shingle_sets(texts: list[str], shingle_size: int) -> list[frozenset[int]]:
    """Each paragraph's set of 64-bit shingle hashes, for exact Jaccard and containment.

    At 64 bits two distinct shingles collide with probability ~2^-64 per pair, so the Jaccard of
    these sets is the Jaccard of the shingle strings for any corpus that fits on a disk.
    """
    out: list[frozenset[int]] = []
    for lo in range(0, len(texts), CHUNK):
        sh = shingle_hashes(tokenise(texts[lo:lo + CHUNK]), shingle_size)
        values = sh.hashes.tolist()
        bounds = sh.offsets.tolist()
        out.extend(frozenset(values[bounds[i]:bounds[i + 1]]) for i in range(len(bounds) - 1))
    return out
