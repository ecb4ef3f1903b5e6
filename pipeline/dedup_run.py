"""Entry point of the sharded dedup: the strip output read shard by shard, band keys in files.

The phases themselves are pure (`pipeline.dedup.phases`, driven by `pipeline.dedup.plan`); this
module only does their I/O. Band keys wait between the signing and bucketing phases in a work
folder inside the stage folder, removed when the stage ends; the outputs are written atomically,
paragraphs in row groups of 64k rows (export streams them) whatever the shard size.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import parquet_io as pio
from pipeline import schema
from pipeline.dedup import plan
from pipeline.params import DedupParams
from pipeline.stages import dedup

if TYPE_CHECKING:  # presign reads the input as this module does (ParquetSource)
    from pipeline.presign import Presigned

ROW_GROUP = 1 << 16


class ParquetSource:
    """A paragraphs Parquet file, read `shard_rows` rows at a time."""

    def __init__(self, path: Path, shard_rows: int) -> None:
        self._path, self._shard_rows = path, shard_rows

    def keys(self) -> pa.Table:
        return pio.read_table(self._path, columns=plan.KEY_COLUMNS)

    def shards(self, columns: list[str] | None = None) -> Iterator[tuple[int, pa.Table]]:
        start = 0
        for batch in pq.ParquetFile(self._path).iter_batches(batch_size=self._shard_rows, columns=columns):
            yield start, pa.Table.from_batches([batch])
            start += batch.num_rows

    def texts(self, positions: np.ndarray) -> list[str]:
        out: list[str] = []
        for start, shard in self.shards(["text"]):
            lo, hi = np.searchsorted(positions, [start, start + shard.num_rows])
            if hi > lo:
                out.extend(shard.column("text").take(pa.array(positions[lo:hi] - start)).to_pylist())
        return out


class DiskStore:
    """Band keys of each shard in a .npy file, read back one band at a time (memory-mapped)."""

    def __init__(self, folder: Path) -> None:
        self._folder, self._n = folder, 0

    def put(self, shard: int, mh_rows: np.ndarray, keys: np.ndarray) -> None:
        np.save(self._folder / f"rows-{shard:06d}.npy", mh_rows)
        np.save(self._folder / f"keys-{shard:06d}.npy", keys)
        self._n = max(self._n, shard + 1)

    def band(self, j: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for i in range(self._n):
            keys = np.load(self._folder / f"keys-{i:06d}.npy", mmap_mode="r")
            yield np.load(self._folder / f"rows-{i:06d}.npy"), np.array(keys[j])


class _RowGroups:
    """Tables in, row groups of exactly ROW_GROUP rows out, so the file is the same bytes for any
    shard size."""

    def __init__(self, write: Callable[[pa.Table], None]) -> None:
        self._write, self._parts, self._n = write, [], 0

    def write(self, table: pa.Table) -> None:
        self._parts.append(table)
        self._n += table.num_rows
        while self._n >= ROW_GROUP:
            self._flush(ROW_GROUP)

    def _flush(self, n: int) -> None:
        whole = pa.concat_tables(self._parts).combine_chunks()
        self._write(whole.slice(0, n))  # one write of at most ROW_GROUP rows: one row group
        self._parts, self._n = [whole.slice(n)], whole.num_rows - n

    def close(self) -> None:
        if self._n:
            self._flush(self._n)


def run(src: Path, dest: Path, params: DedupParams, dates: dict[str, str | None], progress: plan.Progress,
        mapped: plan.Run | None = None, presigned: Presigned | None = None) -> dict[str, Any]:
    """Dedup the paragraphs file `src` into folder `dest` (paragraphs.parquet, dup_clusters.parquet);
    returns the counters. `mapped` runs the signing and band phases (default: in this process);
    `presigned`: the parts signed ahead (`pipeline.presign`), used if they match `src`."""
    dest.mkdir(parents=True, exist_ok=True)
    # Left by a killed run (SIGKILL skips `finally`); a `pipeline run` passes its own parts.
    for stale in [*dest.glob(".work-*"), *dest.glob(".presign-*")]:
        if presigned is None or stale != presigned.folder:
            shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=".work-", dir=dest))
    try:
        with dedup.without_cyclic_gc():
            source = ParquetSource(src, params.shard_rows)
            decided = plan.decide_corpus(source, DiskStore(work), params, dates, progress, mapped, presigned)
            progress("marks", 0)
            marks = dedup.marks_of(decided, params)
            with pio.StreamWriters(dest, {"paragraphs": schema.PARAGRAPHS}) as writers:
                out = _RowGroups(lambda t: writers.write("paragraphs", t))
                for start, shard in source.shards():
                    out.write(dedup.filter_shard(shard, start, marks))
                out.close()
        pio.write_table(dedup.clusters_table(decided), dest / "dup_clusters.parquet")
        return dedup.counters(decided, marks)
    finally:
        shutil.rmtree(work, ignore_errors=True)
