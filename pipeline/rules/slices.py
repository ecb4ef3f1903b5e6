"""Numpy passes over a string column's bytes, a slice of rows at a time.

A pass over a whole batch's bytes (tens of MB) allocates a dozen temporaries that size: each is
fresh memory, which costs more here than the arithmetic (in a fresh strip process, slices of
4,096 rows took about 30% fewer page faults and 0.05 s less of the 0.75 s stage on 80,001
paragraphs). Slices keep the temporaries small enough to be reused from one slice to the next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pyarrow as pa

SLICE_ROWS = 4096
T = TypeVar("T")


def by_slices(texts: pa.Array, fn: Callable[[pa.Array], T], slice_rows: int = SLICE_ROWS) -> list[T]:
    """`fn` of each run of `slice_rows` rows of `texts`, in order (one call if it is no longer)."""
    if slice_rows < 1:
        raise ValueError("slice_rows must be at least 1")
    if len(texts) <= slice_rows:
        return [fn(texts)]
    return [fn(texts.slice(i, slice_rows)) for i in range(0, len(texts), slice_rows)]
