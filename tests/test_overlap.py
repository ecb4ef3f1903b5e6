"""Shingle-set overlaps in arrays (`pipeline.dedup.overlap`) against Python sets of the same hashes,
and the containment step's choice of a container."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.dedup import decide, overlap, packed
from pipeline.params import DedupParams
from pipeline.stages import dedup

K = 3


def _texts(seed: int, n: int) -> list[str]:
    rng = np.random.default_rng(seed)
    vocab = ["alpha", "beta", "gamma", "delta", "eps"]  # few words: many shared shingles
    texts = [" ".join(rng.choice(vocab, int(rng.integers(0, 40)))) for _ in range(n)]
    # Edge cases: empty, shorter than a shingle, a shingle repeated, an exact copy, non-ASCII.
    return [*texts, "", "two words", "a b c a b c a b c", texts[0], "Café “quoted” — text"]


def _reference(texts: list[str], a: list[int], b: list[int]) -> tuple[list[int], list[int], list[int]]:
    sets = [dedup.shingle_set(t, K) for t in texts]
    return ([len(sets[x] & sets[y]) for x, y in zip(a, b, strict=True)],
            [len(sets[x]) for x in a], [len(sets[y]) for y in b])


def test_intersections_and_sizes_match_python_sets() -> None:
    texts = _texts(5, 80)
    rng = np.random.default_rng(6)
    a, b = rng.integers(0, len(texts), 3000), rng.integers(0, len(texts), 3000)
    table = overlap.set_table(texts, K)
    inter = overlap.intersections(table, a, b)
    ref_inter, ref_a, ref_b = _reference(texts, a.tolist(), b.tolist())
    assert inter.tolist() == ref_inter
    assert table.sizes[a].tolist() == ref_a and table.sizes[b].tolist() == ref_b
    assert (inter > 0).sum() > 100 and (inter == 0).sum() > 100  # both kinds of pair were asked


def test_scores_are_the_floats_python_sets_give() -> None:
    texts = _texts(7, 60)
    n = len(texts)
    a, b = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    table = overlap.set_table(texts, K)
    inter = overlap.intersections(table, a, b)
    sets = [dedup.shingle_set(t, K) for t in texts]
    jac = overlap.jaccards(inter, table.sizes[a], table.sizes[b]).tolist()
    assert jac == [dedup.jaccard(sets[x], sets[y]) for x, y in zip(a.tolist(), b.tolist(), strict=True)]
    got = overlap.containments(inter, table.sizes[a]).tolist()
    assert got == [len(sets[x] & sets[y]) / len(sets[x]) if sets[x] else 0.0
                   for x, y in zip(a.tolist(), b.tolist(), strict=True)]


def test_no_pairs_and_no_texts() -> None:
    table = overlap.set_table([], K)
    assert overlap.intersections(table, np.zeros(0, np.int64), np.zeros(0, np.int64)).tolist() == []
    assert overlap.set_table(["", ""], K).sizes.tolist() == [0, 0]


def test_pairs_over_several_chunks_give_what_one_chunk_gives() -> None:
    texts = _texts(9, 50)
    n_pairs = decide.PAIR_CHUNK + 700
    rng = np.random.default_rng(10)
    lo, hi = rng.integers(0, len(texts), n_pairs), rng.integers(0, len(texts), n_pairs)
    sets = decide._Sets(lambda rows: [texts[r] for r in rows.tolist()], np.concatenate((lo, hi)), K)
    inter, size_lo, size_hi = sets.overlaps(lo, hi)
    assert (inter.tolist(), size_lo.tolist(), size_hi.tolist()) == _reference(texts, lo.tolist(), hi.tolist())


def _stats_for(texts: list[str], p: DedupParams):
    from pipeline.dedup.phases import gather, sign

    signed = sign(texts, np.arange(len(texts), dtype=np.int64), p)
    return gather([signed], len(texts))


@pytest.mark.parametrize(("rows", "expected"), [
    (["small", "partial", "full", "full_too"], 2),  # a higher score beats a lower row
    (["small", "full_too", "partial", "full"], 1),  # of two equal scores, the lower row
])
def test_containment_picks_the_highest_score_then_the_lowest_row(rows: list[str], expected: int) -> None:
    words = [f"w{i}" for i in range(20)]
    other = [f"o{i}" for i in range(25)]
    made = {"small": " ".join(words),
            "partial": " ".join(words[2:] + other),  # 16 of its 18 shingles: 0.89
            "full": " ".join(words + other),
            "full_too": " ".join(other + words)}
    texts = [made[name] for name in rows]
    p = DedupParams(containment_threshold=0.8)
    alive = np.ones(len(texts), dtype=bool)
    got = decide._containment(_stats_for(texts, p), alive, np.arange(len(texts)), p,
                              lambda at: [texts[r] for r in at.tolist()])
    assert got[0] == (expected, 1.0)


def test_spans_are_each_run_in_turn() -> None:
    got = packed.spans(np.array([5, 0, 9]), np.array([2, 0, 3]))
    assert got.tolist() == [5, 6, 9, 10, 11]
    assert packed.spans(np.zeros(0, np.int64), np.zeros(0, np.int64)).tolist() == []
