"""The shard-wise phases of dedup as picklable task objects, for a mapper (`pool.ordered_map` or
`ray_engine.RayMapper`): each is sent once to each worker and called with one Arrow table.

Tables, not arrays, because the Ray mapper ships every item as a Parquet shard through the work
folder; both tasks only read columns, so the result is the same whichever mapper ran them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from pipeline import pool
from pipeline.dedup.bands import band_pairs
from pipeline.dedup.phases import Signed, sign
from pipeline.params import DedupParams
from pipeline.pool import Mapper


def sign_shard(texts: pa.Array | pa.ChunkedArray, rows: np.ndarray) -> pa.Table:
    """The item of `SignTask`: live texts of one shard with their global rows."""
    return pa.table({"text": texts, "row": pa.array(rows, type=pa.int64())})


@dataclass(frozen=True)
class SignTask:
    """Phase 2 (`phases.sign`) on one shard: columns text and row."""

    params: DedupParams

    def __call__(self, shard: pa.Table) -> Signed:
        rows = shard.column("row").to_numpy()
        return sign(shard.column("text").to_pylist(), rows, self.params)


def band_table(rows: np.ndarray, keys: np.ndarray) -> pa.Table:
    """The item of `BandTask`: one band's keys over every shard, with their rows."""
    return pa.table({"row": pa.array(rows, type=pa.int64()), "key": pa.array(keys, type=pa.uint64())})


@dataclass(frozen=True)
class BandTask:
    """Phase 3 (`bands.band_pairs`) on one band; `bits` is the same for every band (id_bits of all
    the rows asked about), so the pairs do not depend on where the band ran."""

    bits: int
    cap: int

    def __call__(self, band: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        return band_pairs(band.column("key").to_numpy(), band.column("row").to_numpy(), self.bits, self.cap)


@dataclass(frozen=True)
class Run:
    """Where the shard-wise phases run: a mapper with `pool.ordered_map`'s signature (task, items,
    workers) -> results in item order, and its worker count."""

    map_fn: Mapper = pool.ordered_map  # with one worker: in this process, no pool
    workers: int = 1
