"""Containment counts worked out ahead, before strip has said which paragraphs stay.

With more than one worker, `pipeline run` signs every paragraph of extract's file in a process of
its own while strip runs (`pipeline.presign`), and that process is then idle while dedup runs on
one core. It goes on to count the shingle overlaps of the containment candidates among every
paragraph with `dedup.min_words` words, as if strip had removed none, keyed by position in the
file (strip keeps every paragraph in extract's order, so positions are the same in its output).
Dedup's own candidates, among the live rows, are nearly all in that set (19,021 of 19,111 on the
804 development pages): it takes their counts from here and counts the others itself. A pair's
counts depend only on its two texts, so the decisions are the same whoever counted them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.dedup import contain, packed
from pipeline.dedup.sketch import RowStats
from pipeline.params import DedupParams

# (rows a, rows b) -> (|A ∩ B|, |A|) of each pair: how a step counts shingle overlaps.
CountPairs = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Counts:
    """Overlap counts of (small, big) pairs of positions, sorted by `code`."""

    code: np.ndarray   # uint64: small position << 32 | big position, ascending
    inter: np.ndarray  # int64: shingles of small that big holds too
    size: np.ndarray   # int64: shingles of small

    def lookup(self, small: np.ndarray, big: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(which pairs are here, their |A ∩ B|, their |A|): the counts of the pairs found only."""
        found, at = packed.find(self.code, packed.pack(small, big))
        return found, self.inter[at[found]], self.size[at[found]]


def count_ahead(stats: RowStats, p: DedupParams, count_pairs: CountPairs) -> Counts:
    """The counts of the containment candidates among every row of `stats` with enough words
    (rows are positions here); `count_pairs` counts them from the texts."""
    eligible = stats.n_words >= p.min_words
    small, big = contain.candidates(stats, eligible, p.bucket_cap)
    code = packed.pack(small, big)
    order = np.argsort(code, kind="stable")
    inter, size = count_pairs(small[order], big[order])
    return Counts(code[order], inter, size)
