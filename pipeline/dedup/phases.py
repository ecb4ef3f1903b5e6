"""The pure phases of sharded dedup: each takes arrays or Arrow tables and returns arrays, no I/O.

A driver (`pipeline.dedup.plan`) runs them over shards of the strip output, in the manner of
datatrove's MinHash steps, so that no phase holds the whole corpus except the cluster merge
(which holds pairs and a few numbers per row):

1. `index_rows`: global row numbers of the live paragraphs, in (doc_id, para_idx) order (every
   decision is defined on that order, so it does not depend on how the corpus is cut).
2. `sign`: one shard's texts -> per-row values (words, exact key, shingle counts, containment
   samples) and its LSH band keys; the MinHash signatures are dropped once keyed.
3. `bands.band_pairs`: one band's keys over all shards -> candidate pairs.
4. `gather`: every shard's per-row values -> `RowStats` for the merge (`decide.decide`), which
   verifies candidates on the texts of the rows in pairs only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import schema
from pipeline.dedup.bands import band_keys
from pipeline.dedup.sketch import RowStats, sketch
from pipeline.params import DedupParams


@dataclass(frozen=True)
class RowIndex:
    """Arrays, not Python lists: a few bytes per row whatever the corpus size."""

    row_at: np.ndarray     # int64 per position in the input: its global row, -1 if not live
    positions: np.ndarray  # int64 per row: its position in the input
    doc: np.ndarray        # int32 per row: document number (ascending with the row)
    doc_names: list[str]   # per document number: its doc_id
    para_idx: np.ndarray   # int32 per row

    @property
    def n_rows(self) -> int:
        return len(self.positions)

    def key(self, row: int) -> str:
        """`doc_id:para_idx` of a row, as the outputs name paragraphs."""
        return f"{self.doc_names[self.doc[row]]}:{self.para_idx[row]}"


def index_rows(keys: pa.Table) -> RowIndex:
    """Rows of the live paragraphs of `keys` (doc_id, para_idx, status; input order)."""
    status = keys.column("status").to_numpy(zero_copy_only=False)
    live = np.flatnonzero(status == schema.KEPT)
    del status
    sub = keys.select(["doc_id", "para_idx"]).take(pa.array(live))
    order = pc.sort_indices(sub, [("doc_id", "ascending"), ("para_idx", "ascending")]).to_numpy()
    positions = live[order].astype(np.int64)
    sub = sub.take(pa.array(order))
    row_at = np.full(keys.num_rows, -1, dtype=np.int64)
    row_at[positions] = np.arange(len(positions))
    # Sorted by doc_id, so the dictionary is in order of first appearance: ascending doc numbers.
    codes = pc.dictionary_encode(sub.column("doc_id")).combine_chunks()
    para_idx = sub.column("para_idx").to_numpy().astype(np.int32)
    return RowIndex(row_at, positions, codes.indices.to_numpy().astype(np.int32),
                    codes.dictionary.to_pylist(), para_idx)


@dataclass(frozen=True)
class Signed:
    """One shard's live rows, signed. Arrays are per row of `rows` unless said otherwise."""

    rows: np.ndarray         # int64 global rows
    n_words: np.ndarray      # int32
    exact: np.ndarray        # uint64
    n_shingles: np.ndarray   # int32
    n_chars: np.ndarray      # int64
    n_sampled: np.ndarray    # int32
    sample_hash: np.ndarray  # uint32, row after row
    mh_rows: np.ndarray      # int64 global rows with >= minhash_min_words words
    keys: np.ndarray         # (bands, len(mh_rows)) uint64: band j of every MinHash row is keys[j]
    sig: np.ndarray | None   # (len(mh_rows), num_perm) uint32, only for backend datasketch


def sign(texts: list[str], rows: np.ndarray, p: DedupParams) -> Signed:
    """Sketch one shard: `texts` of live paragraphs and their global `rows` (any order)."""
    sk = sketch(texts, p.shingle_size, p.num_perm, p.seed, p.minhash_min_words)
    bands, band_rows = p.band_split()
    keys = np.ascontiguousarray(band_keys(sk.sig, bands, band_rows, sk.mh_rows).T)
    sig = sk.sig[sk.mh_rows] if p.backend == "datasketch" else None
    n_chars = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    rows = np.asarray(rows, dtype=np.int64)
    return Signed(rows, sk.n_words, sk.exact, sk.n_shingles, n_chars, sk.n_sampled, sk.sample_hash,
                  rows[sk.mh_rows], keys, sig)


def live_part(part: Signed, row_at: np.ndarray) -> Signed:
    """The live rows of a part signed by input position (`rows` and `mh_rows` are positions, as
    `sign` gives them for every paragraph of a file), renumbered to global rows through `row_at`
    (-1: not live). Rows are signed one by one, so this equals signing the live rows alone."""
    live = row_at[part.rows] >= 0
    mh_live = row_at[part.mh_rows] >= 0
    return Signed(row_at[part.rows[live]], part.n_words[live], part.exact[live], part.n_shingles[live],
                  part.n_chars[live], part.n_sampled[live], part.sample_hash[np.repeat(live, part.n_sampled)],
                  row_at[part.mh_rows[mh_live]], np.ascontiguousarray(part.keys[:, mh_live]),
                  None if part.sig is None else part.sig[mh_live])


def gather(parts: list[Signed], n_rows: int) -> RowStats:
    """Every shard's per-row values at their global rows (shards in any order)."""
    n_words, n_shingles, n_sampled = (np.zeros(n_rows, dtype=np.int32) for _ in range(3))
    exact = np.zeros(n_rows, dtype=np.uint64)
    n_chars = np.zeros(n_rows, dtype=np.int64)
    for part in parts:
        for dst, src in ((n_words, part.n_words), (n_shingles, part.n_shingles), (n_sampled, part.n_sampled),
                         (exact, part.exact), (n_chars, part.n_chars)):
            dst[part.rows] = src
    samples = np.concatenate([pt.sample_hash for pt in parts]) if parts else np.zeros(0, np.uint32)
    owner = np.concatenate([np.repeat(pt.rows, pt.n_sampled) for pt in parts]) if parts else np.zeros(0)
    if len(owner) > 1 and not (owner[1:] >= owner[:-1]).all():
        samples = samples[np.argsort(owner, kind="stable")]  # row after row, each row's in order
    mh_rows = np.sort(np.concatenate([pt.mh_rows for pt in parts])) if parts else np.zeros(0, np.int64)
    return RowStats(n_words, exact, mh_rows, n_shingles, n_chars, samples, n_sampled)


def rank(policy: str, doc: np.ndarray, doc_names: list[str], n_chars: np.ndarray,
         dates: dict[str, str | None]) -> np.ndarray:
    """Survivor rank of each row (lower survives; ties go to the earliest row)."""
    n = len(doc)
    if policy == "first":
        return np.zeros(n, dtype=np.int64)
    if policy == "longest_document":
        size = np.zeros(int(doc.max()) + 1 if n else 0, dtype=np.int64)
        np.add.at(size, doc, n_chars)
        return -size[doc]
    # earliest_date: ISO dates sort as strings; a document without a date comes last.
    # (Ranked per document, then spread to its rows.)
    order = sorted({dates.get(d) or "~" for d in doc_names})
    pos = {v: i for i, v in enumerate(order)}
    of_doc = np.array([pos[dates.get(d) or "~"] for d in doc_names], dtype=np.int64)
    return of_doc[doc]
