"""How a stage's batches are mapped over workers: in slices on the local pool, whole on Ray."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline import pool
from pipeline.params import Params


def sliced(task: Callable[[Any], Any], batches: Iterator[pa.Table], params: Params, workers: int,
           map_fn: pool.Mapper, merge: Callable[[list[Any]], Any], key: str | None = None,
           total: int | None = None) -> Iterator[Any]:
    """A stage's map over its batches: on the local pool in slices (`key`: the column that keeps
    a document's rows together), each batch merged back, so the files stay as they were cut (a
    corpus of 300 pages is one batch of 256 and one of 44: two workers could not share that).
    Extract's slices are `extract.batch_size` pages (pages are slow, and uneven), fewer near the
    end of its `total` pages so that the workers finish together; strip's (`key`)
    are two per worker: a call of strip has fixed costs (compiling its RE2 gates alone is about
    6 ms), and 32-document slices of the 804 pages cost more than two workers saved.
    Ray schedules whole batches over its actors: slicing them would multiply its shard files."""
    if map_fn is not pool.ordered_map:
        return map_fn(task, batches, workers)
    if key is None:
        return pool.split_map(task, batches, params.extract.batch_size, workers, merge, total=total)

    def two_per_worker(batch: pa.Table) -> int:
        return max(1, -(-pc.count_distinct(batch.column(key)).as_py() // (2 * workers)))
    return pool.split_map(task, batches, two_per_worker, workers, merge, key=key)
