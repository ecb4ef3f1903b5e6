"""Pairs of 32-bit numbers packed into one sortable uint64 (high << 32 | low), membership of
packed keys in a sorted array, and the positions of runs of such an array: how containment
search, overlap counting and the counts worked out ahead store and look up (row, hash) and
(row, row) pairs."""

from __future__ import annotations

import numpy as np

_U32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)


def pack(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """high << 32 | low, as uint64 (both below 2**32)."""
    return (high.astype(np.uint64) << _U32) | low.astype(np.uint64)


def high(key: np.ndarray) -> np.ndarray:
    return (key >> _U32).astype(np.int64)


def low(key: np.ndarray) -> np.ndarray:
    return (key & _LOW32).astype(np.int64)


def find(ordered: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(whether each of `keys` is in the sorted array `ordered`, where: valid where found)."""
    if not len(ordered):
        return np.zeros(len(keys), dtype=bool), np.zeros(len(keys), np.int64)
    at = np.minimum(np.searchsorted(ordered, keys), len(ordered) - 1)
    return ordered[at] == keys, at


def spans(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The positions start, start + 1, ..., start + count - 1 of each run, one run after another."""
    counts = counts.astype(np.int64)
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
