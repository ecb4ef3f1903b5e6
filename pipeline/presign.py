"""Dedup's signing done ahead, while strip runs (`pipeline run` with more than one worker).

Strip keeps every paragraph extract wrote, in extract's order and with its text (it marks
paragraphs, it never rewrites them), so a paragraph's MinHash signature computed from extract's
file is the one dedup would compute from strip's. A process of its own signs every paragraph of
extract's file while this one runs strip; dedup then keeps the rows strip left live
(`phases.live_part`) instead of signing them. On the 804 development pages strip takes about
0.5 s and signing about 0.35 s, and they ran one after the other on one core while the other
core was idle.

The parts are files in a folder, `dedup.shard_rows` paragraphs each (dedup's own shards), so
memory stays at one shard whatever the corpus size. Before any part is used, each part's
(doc_id, para_idx) is compared with strip's file; if one differs or is missing, dedup signs as
it always did, and the run's outputs are the same either way.

Signing done, the process counts containment overlaps ahead (`pipeline.dedup.known`) while this
one finishes strip and starts dedup; dedup takes the counts if they are in by its containment
step, and counts them itself otherwise.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import parquet_io as pio
from pipeline import pool
from pipeline.dedup import decide
from pipeline.dedup.known import Counts, count_ahead
from pipeline.dedup.phases import Signed, gather, sign
from pipeline.dedup_run import ParquetSource
from pipeline.params import DedupParams

log = logging.getLogger(__name__)
_PART = "part-{:06d}"
_COUNTS = "contained.npz"
# Fewer paragraphs are signed in less time than a process takes to start (and, on a corpus too
# small for extract's pool, than the fork server takes to import: `pipeline run` on one small
# file went from about 0.75 to 1.3 s): dedup signs them itself. 10,000 paragraphs sign in about
# 60 ms.
MIN_PARAGRAPHS = 10_000
_KEYS = ["doc_id", "para_idx"]
_ARRAYS = [f.name for f in fields(Signed) if f.name != "sig"]


@dataclass(frozen=True)
class PresignTask:
    """Signs every paragraph of a paragraphs file into a folder of parts; called with
    (paragraphs file, folder), it returns the number of parts."""

    params: DedupParams

    def __call__(self, item: tuple[str, str]) -> int:
        src, folder = item
        n_parts = 0
        # dedup's own shards; `Presigned.matches` checks that each part holds exactly its rows.
        for start, table in ParquetSource(Path(src), self.params.shard_rows).shards([*_KEYS, "text"]):
            positions = np.arange(start, start + table.num_rows, dtype=np.int64)
            signed = sign(table.column("text").to_pylist(), positions, self.params)
            _save(Path(folder) / _PART.format(n_parts), table.select(_KEYS), signed)
            n_parts += 1
        return n_parts


@dataclass(frozen=True)
class AheadTask:
    """Signing ahead, then counting ahead: called with (paragraphs file, folder), it yields the
    number of parts once they are written, then the number of pairs once their containment
    counts are in the folder too."""

    params: DedupParams

    def __call__(self, item: tuple[str, str]) -> Iterator[int]:
        src, folder = Path(item[0]), Path(item[1])
        n_parts = PresignTask(self.params)(item)
        yield n_parts
        n_rows = pq.ParquetFile(src).metadata.num_rows
        # Each part's small per-row values, its band keys and any signatures dropped (those are
        # hundreds of bytes per paragraph): rows are positions here.
        parts = [replace(Presigned(folder)(i), keys=np.zeros((0, 0), np.uint64), sig=None)
                 for i in range(n_parts)]
        texts_of = ParquetSource(src, self.params.shard_rows).texts
        k = self.params.shingle_size
        counts = count_ahead(gather(parts, n_rows), self.params,
                             lambda a, b: decide.contain_counts(texts_of, a, b, k))
        np.savez(folder / _COUNTS, code=counts.code, inter=counts.inter, size=counts.size)
        yield len(counts.code)


def _save(stem: Path, keys: pa.Table, signed: Signed) -> None:
    arrays = {name: getattr(signed, name) for name in _ARRAYS}
    if signed.sig is not None:
        arrays["sig"] = signed.sig
    np.savez(stem.with_suffix(".npz"), **arrays)
    pq.write_table(keys, stem.with_suffix(".parquet"), compression="none")


class Presigned:
    """The parts in `folder`, for dedup (`plan.Presigned`); `counted()`: are the containment
    counts in the folder yet (never, by default)?"""

    def __init__(self, folder: Path, counted: Callable[[], bool] = lambda: False) -> None:
        self.folder = folder
        self._counted = counted
        self._counts: Counts | None = None

    def counts(self) -> Counts | None:
        if self._counts is None and self._counted():
            with np.load(self.folder / _COUNTS) as z:
                self._counts = Counts(z["code"], z["inter"], z["size"])
        return self._counts

    def __call__(self, i: int) -> Signed:
        with np.load(self.folder / (_PART.format(i) + ".npz")) as z:
            return Signed(**{name: z[name] for name in _ARRAYS}, sig=z["sig"] if "sig" in z.files else None)

    def matches(self, keys: pa.Table, shard_rows: int) -> bool:
        """Are the parts those of the paragraphs `keys` (doc_id, para_idx, in file order), one per
        `shard_rows` of them, and no more?"""
        starts = range(0, keys.num_rows, shard_rows)
        if len(list(self.folder.glob("part-*.parquet"))) != len(starts):
            return False
        for i, start in enumerate(starts):
            part = self.folder / (_PART.format(i) + ".parquet")
            if not (part.with_suffix(".npz").is_file()
                    and pio.read_table(part).equals(keys.slice(start, shard_rows).select(_KEYS))):
                return False
        return True


class Ahead:
    """Signing ahead for one run: `start(n)` once extract's `n` paragraphs are written (a process
    forked from the pool's fork server signs them into a folder under `dest`, then counts
    containment ahead), `presigned()` when dedup needs them (None if signing failed: dedup then
    signs itself). Off, or for fewer than `MIN_PARAGRAPHS`, both do nothing. The folder is
    removed on exit, and one left by a killed run on the next start."""

    def __init__(self, on: bool, src: Path, dest: Path, params: DedupParams) -> None:
        self._on, self._src, self._dest, self._params = on, src, dest, params
        self._folder: Path | None = None
        self._job: pool.Background | None = None
        self._counts_in: bool | None = None  # None: not known yet

    def start(self, n_paragraphs: int) -> None:
        if not self._on or n_paragraphs < MIN_PARAGRAPHS:
            return
        self._dest.mkdir(parents=True, exist_ok=True)
        for stale in self._dest.glob(".presign-*"):
            shutil.rmtree(stale, ignore_errors=True)
        self._folder = Path(tempfile.mkdtemp(prefix=".presign-", dir=self._dest))
        item = (os.fspath(self._src), os.fspath(self._folder))
        self._job = pool.Background(AheadTask(self._params), item)

    @property
    def started(self) -> bool:
        """Whether a signing process was started (it may have finished since)."""
        return self._job is not None

    def folder(self) -> Path | None:
        if self._job is None:
            return None
        try:
            self._job.result()
        except Exception as exc:  # an optimisation failing must not fail the run
            log.warning("signing ahead failed (%s: %s): dedup signs the paragraphs itself",
                        type(exc).__name__, exc)
            return None
        return self._folder

    def presigned(self) -> Presigned | None:
        """The parts for dedup (waiting for them), with the counts when they come; None if none."""
        folder = self.folder()
        return None if folder is None else Presigned(folder, self._counted)

    def _counted(self) -> bool:
        """Are the containment counts in the folder? Never waits: dedup counts what is not."""
        if self._counts_in is None and self._job is not None and self._job.ready():
            try:
                self._job.result()
                self._counts_in = True
            except Exception as exc:  # as for signing: dedup counts them itself
                log.warning("counting ahead failed (%s: %s): dedup counts containment itself",
                            type(exc).__name__, exc)
                self._counts_in = False
        return bool(self._counts_in)

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._job is not None:
            self._job.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
