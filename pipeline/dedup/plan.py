"""The driver of sharded dedup: runs the pure phases (`pipeline.dedup.phases`) over shards.

One implementation for every caller: where the shards come from (`Source`: an in-memory table,
or the strip output read shard by shard) and where band keys wait between phases (`KeyStore`:
memory, or files) are the only differences. Peak memory outside the merge is one shard's texts
and signatures, or one band's keys (8 bytes per MinHash row).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import pyarrow as pa

from pipeline.dedup import tasks
from pipeline.dedup.bands import candidates_datasketch, id_bits, unique_pairs
from pipeline.dedup.decide import Decisions, Known, decide
from pipeline.dedup.known import Counts
from pipeline.dedup.phases import RowIndex, Signed, gather, index_rows, live_part, rank
from pipeline.dedup.sketch import RowStats
from pipeline.dedup.tasks import Run
from pipeline.params import DedupParams

log = logging.getLogger(__name__)
KEY_COLUMNS = ["doc_id", "para_idx", "status"]
Progress = Callable[[str, int], object]


class Presigned(Protocol):
    """The input signed ahead (`pipeline.presign`): part i is `shard_rows` positions from
    i * shard_rows, every paragraph (live or not) signed, `rows` and `mh_rows` being positions."""

    def __call__(self, i: int) -> Signed:
        """Part i."""

    def matches(self, keys: pa.Table, shard_rows: int) -> bool:
        """Are the parts those of the paragraphs `keys` (doc_id, para_idx, in input order)?"""

    def counts(self) -> Counts | None:
        """Containment counts of the input's pairs by position (`pipeline.dedup.known`), if they
        are ready now."""


class Source(Protocol):
    def keys(self) -> pa.Table:
        """doc_id, para_idx, status of every paragraph, in input order."""

    def shards(self, columns: list[str] | None = None) -> Iterator[tuple[int, pa.Table]]:
        """(position of its first row, shard) for consecutive shards covering the input."""

    def texts(self, positions: np.ndarray) -> list[str]:
        """The text at each of `positions` (ascending)."""


class KeyStore(Protocol):
    def put(self, shard: int, mh_rows: np.ndarray, keys: np.ndarray) -> None:
        """One shard's MinHash rows and their band keys, (bands, rows) uint64."""

    def band(self, j: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(mh_rows, keys of band j) of each shard."""


class TableSource:
    """A paragraphs table in memory, cut into shards of `shard_rows`."""

    def __init__(self, table: pa.Table, shard_rows: int) -> None:
        self._table, self._shard_rows = table, shard_rows

    def keys(self) -> pa.Table:
        return self._table.select(KEY_COLUMNS)

    def shards(self, columns: list[str] | None = None) -> Iterator[tuple[int, pa.Table]]:
        table = self._table if columns is None else self._table.select(columns)
        for start in range(0, table.num_rows, self._shard_rows):
            yield start, table.slice(start, self._shard_rows)

    def texts(self, positions: np.ndarray) -> list[str]:
        return self._table.column("text").take(pa.array(positions)).to_pylist()


class MemoryStore:
    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []

    def put(self, shard: int, mh_rows: np.ndarray, keys: np.ndarray) -> None:
        self._parts.append((mh_rows, keys))

    def band(self, j: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for mh_rows, keys in self._parts:
            yield mh_rows, keys[j]


@dataclass(frozen=True)
class Decided:
    index: RowIndex
    stats: RowStats
    decisions: Decisions


def _sign_shards(source: Source, ix: RowIndex, store: KeyStore, p: DedupParams,
                 progress: Progress, run: Run) -> list[Signed]:
    """Phase 2 over every shard, through the mapper; band keys go to the store, the rest (small)
    is returned."""
    def items() -> Iterator[pa.Table]:
        for start, shard in source.shards(["text"]):
            rows = ix.row_at[start:start + shard.num_rows]
            live = np.flatnonzero(rows >= 0)
            yield tasks.sign_shard(shard.column("text").take(pa.array(live)), rows[live])

    parts: list[Signed] = []
    for i, signed in enumerate(run.map_fn(tasks.SignTask(p), items(), run.workers)):
        _keep(store, i, signed, parts, progress)
    return parts


def _keep(store: KeyStore, i: int, signed: Signed, parts: list[Signed], progress: Progress) -> None:
    """Shard `i`'s band keys to the store; the rest (small) to `parts`."""
    store.put(i, signed.mh_rows, signed.keys)
    parts.append(replace(signed, keys=np.zeros((0, 0), np.uint64)))
    progress("sketch", len(signed.rows))


def _presigned_shards(presigned: Presigned, ix: RowIndex, store: KeyStore, p: DedupParams,
                      progress: Progress) -> list[Signed]:
    """Phase 2 signed ahead (`pipeline.presign`): shard i is part i, every paragraph of the input
    signed by position; only its live rows are kept."""
    parts: list[Signed] = []
    for i in range(-(-len(ix.row_at) // p.shard_rows)):
        _keep(store, i, live_part(presigned(i), ix.row_at), parts, progress)
    return parts


def _candidates(store: KeyStore, p: DedupParams, n: int, run: Run) -> Callable[[np.ndarray], tuple]:
    """LSH candidates among given rows, one band at a time over every shard's keys; each band's
    group-by through the mapper, pairs taken in band order."""
    def candidates(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wanted = np.zeros(n, dtype=bool)
        wanted[ids] = True

        def items() -> Iterator[pa.Table]:
            for j in range(p.band_split()[0]):
                got = [(rows[wanted[rows]], keys[wanted[rows]]) for rows, keys in store.band(j)]
                rows = np.concatenate([g[0] for g in got]) if got else np.zeros(0, np.int64)
                keys = np.concatenate([g[1] for g in got]) if got else np.zeros(0, np.uint64)
                yield tasks.band_table(rows, keys)

        pairs = list(run.map_fn(tasks.BandTask(id_bits(ids), p.bucket_cap), items(), run.workers))
        if not pairs:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return unique_pairs(np.concatenate([lo for lo, _ in pairs]), np.concatenate([hi for _, hi in pairs]),
                            n)
    return candidates


def _candidates_datasketch(parts: list[Signed], p: DedupParams, n: int) -> Callable[[np.ndarray], tuple]:
    # The comparison backend holds every signature, as datasketch's MinHashLSH would.
    sig = np.zeros((n, p.num_perm), dtype=np.uint32)
    for part in parts:
        sig[part.mh_rows] = part.sig
    bands, rows = p.band_split()
    return lambda ids: candidates_datasketch(sig, ids, p.threshold, bands, rows, p.seed, n)


def decide_corpus(source: Source, store: KeyStore, p: DedupParams, dates: dict[str, str | None],
                  progress: Progress, run: Run | None = None, presigned: Presigned | None = None) -> Decided:
    """Index, sign every shard, then the merge: every decision for the live rows of `source`.
    `run` maps the signing and band phases (default: in this process); `presigned`: the shards
    signed ahead, used if they are those of `source`'s paragraphs (else signed here)."""
    run = run or Run()
    keys = source.keys()
    ix = index_rows(keys)
    if presigned is not None and not presigned.matches(keys, p.shard_rows):
        log.warning("the paragraphs signed ahead are not those of strip's output: signing them again")
        presigned = None
    del keys
    if presigned is not None:
        log.info("dedup: paragraphs signed ahead, while strip ran, are used")
        parts = _presigned_shards(presigned, ix, store, p, progress)
    else:
        parts = _sign_shards(source, ix, store, p, progress, run)
    stats = gather(parts, ix.n_rows)
    if p.backend == "datasketch":
        candidates = _candidates_datasketch(parts, p, ix.n_rows)
    else:
        # A corpus of one shard is small: starting a pool or actors would cost more than its bands.
        candidates = _candidates(store, p, ix.n_rows, run if len(parts) > 1 else Run())
    del parts

    def texts_of(rows: np.ndarray) -> list[str]:
        pos = ix.positions[rows]
        order = np.argsort(pos, kind="stable")
        texts = source.texts(pos[order])
        out: list[str] = [""] * len(rows)
        for i, t in zip(order.tolist(), texts, strict=True):
            out[i] = t
        return out

    ranks = rank(p.survivor, ix.doc, ix.doc_names, stats.n_chars, dates)
    dec = decide(stats, ix.doc, ranks, p, candidates, texts_of, phase=lambda name: progress(name, 0),
                 known=None if presigned is None else _known(presigned, ix))
    return Decided(ix, stats, dec)


def _known(presigned: Presigned, ix: RowIndex) -> Known:
    """The containment counts worked out ahead, asked for by rows, looked up by position."""
    def known(small: np.ndarray, big: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        counts = presigned.counts()
        if counts is None:
            log.info("dedup: containment counted here (none counted ahead yet)")
            return None
        found = counts.lookup(ix.positions[small], ix.positions[big])
        log.info("dedup: containment of %s of %s pairs counted ahead", f"{found[0].sum():,}",
                 f"{len(small):,}")
        return found
    return known
