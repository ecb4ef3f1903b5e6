"""The vectorised dedup paths against plain references: tokens, word hashes, shingles, band
candidates and containment candidates."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.dedup import contain
from pipeline.dedup.bands import band_keys, candidates_bands
from pipeline.dedup.hashing import PAD, word_hash, word_hash_scalar
from pipeline.dedup.minhash import shingle_hashes
from pipeline.dedup.normalise import PUNCTUATION, Tokens, normalise, token_hash, tokenise
from pipeline.dedup.sketch import sketch

SYL = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vi"]


def _words(rng: np.random.Generator, n: int, vocab: int = 40) -> list[str]:
    pool = ["".join(rng.choice(SYL, 1 + i % 4)) + str(i) for i in range(vocab)]
    return [pool[i] for i in rng.integers(0, vocab, n)]


def test_every_fast_path_punctuation_is_a_word_boundary() -> None:
    chars = [chr(c) for c in range(0x10000) if PUNCTUATION.fullmatch(chr(c))]
    assert len(chars) > 20
    assert all(normalise(f"a{c}b") == "a b" for c in chars)


@pytest.mark.parametrize("texts", [
    ["plain ascii text", "“Curly” quotes — and dashes… only", "Mixed café “quotes”", "", "x\ny"],
    ["supercalifragilisticexpialidocious antidisestablishmentarianism", "a" * 70, "ß" * 9],
    ["Ｆｕｌｌ－ｗｉｄｔｈ", "हिन्दी भाषा", "tab\tand\u00a0nbsp", "  ", "ǅemal Ǆ ǆ"],
])
def test_tokens_match_the_reference_on_every_path(texts: list[str]) -> None:
    tok = tokenise(texts)
    for i, t in enumerate(texts):
        ref = [token_hash(w) for w in normalise(t.replace("\n", " ")).split()]
        assert tok.hashes[tok.offsets[i]:tok.offsets[i + 1]].tolist() == ref, t


def test_word_hash_long_words_and_no_short_collisions() -> None:
    words = [b"a", b"ab", b"abcdefgh", b"abcdefghi", b"abcdefghabcdefgh", b"abcdefghabcdefghX" * 3, b"b"]
    buf = b"\0".join(words) + bytes(PAD)
    starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]])
    ends = starts + np.array([len(w) for w in words])
    got = word_hash(np.frombuffer(buf, np.uint8), starts, ends).tolist()
    assert got == [word_hash_scalar(w) for w in words]
    assert len(set(got)) == len(words)


def test_shingles_match_a_python_reference() -> None:
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 7, 300)
    hashes = rng.integers(0, 2**63, int(counts.sum())).astype(np.uint64)
    tokens = Tokens(hashes, np.concatenate(([0], np.cumsum(counts))).astype(np.int64))
    for k in (1, 2, 3, 5):
        sh = shingle_hashes(tokens, k)
        for i in range(len(counts)):
            toks = hashes[tokens.offsets[i]:tokens.offsets[i + 1]]
            n_ref = 0 if len(toks) == 0 else max(len(toks) - k + 1, 1)
            assert sh.offsets[i + 1] - sh.offsets[i] == n_ref
        # The same k-gram gives the same hash wherever it sits.
        same = shingle_hashes(Tokens(np.tile(hashes[:k], 2), np.array([0, k, 2 * k])), k)
        assert same.hashes[0] == same.hashes[1]


def test_band_candidates_are_the_pairs_sharing_a_band() -> None:
    rng = np.random.default_rng(2)
    sig = rng.integers(0, 4, (300, 16)).astype(np.uint32)  # few values: many shared bands
    ids = np.arange(0, 300, 2)  # a subset of the rows, as the stage passes representatives
    lo, hi = candidates_bands(sig, ids, 4, 4, cap=1000, n=300)
    keys = band_keys(sig, 4, 4)
    ref = {(a, b) for i, a in enumerate(ids.tolist()) for b in ids[i + 1:].tolist()
           if (keys[a] == keys[b]).any()}
    assert set(zip(lo.tolist(), hi.tolist(), strict=True)) == ref
    assert all(np.array_equal(band_keys(sig, 4, 4, ids)[j], keys[i]) for j, i in enumerate(ids))


def _containment_reference(sk, alive: np.ndarray, cap: int) -> set[tuple[int, int]]:
    """Every pair of live rows compared: the smaller holds at least half of its samples in the
    larger, counting only samples whose hash at most cap + 1 live samples share."""
    rows = sk.sample_row
    h, r = sk.sample_hash[alive[rows]], rows[alive[rows]]
    vals, freq = np.unique(h, return_counts=True)
    usable = set(vals[freq <= cap + 1].tolist())
    held = {i: set() for i in range(len(alive))}
    mine = {i: [] for i in range(len(alive))}
    for x, i in zip(h.tolist(), r.tolist(), strict=True):
        held[i].add(x)
        mine[i].append(x)
    out = set()
    for a in np.flatnonzero(alive).tolist():
        for b in np.flatnonzero(alive).tolist():
            if a != b and sk.n_shingles[a] < sk.n_shingles[b]:
                shared = sum(1 for x in mine[a] if x in usable and x in held[b])
                if shared and 2 * shared >= sk.n_sampled[a]:
                    out.add((a, b))
    return out


@pytest.mark.parametrize("cap", [2, 50])
def test_containment_candidates_match_the_all_pairs_reference(cap: int) -> None:
    rng = np.random.default_rng(3)
    base = [" ".join(_words(rng, int(rng.integers(8, 60)))) for _ in range(60)]
    parts = []
    for t in base[:30]:  # slices of longer paragraphs, some edited
        w = t.split()
        a = int(rng.integers(0, len(w) // 2))
        parts.append(" ".join(w[a:a + max(6, len(w) // 2)] + (["extra"] if rng.random() < 0.3 else [])))
    texts = base + parts
    sk = sketch(texts, 3, 64, 1, 6)
    alive = rng.random(len(texts)) < 0.9
    small, big = contain.candidates(sk, alive, cap)
    assert set(zip(small.tolist(), big.tolist(), strict=True)) == _containment_reference(sk, alive, cap)
    assert len(small) > 5


def test_stage_reports_its_phases_and_leaves_the_collector_as_it_was() -> None:
    import gc

    import pyarrow as pa

    from pipeline import schema
    from pipeline.params import DedupParams
    from pipeline.stages import dedup

    rows = [{"doc_id": f"d{i % 3}", "para_idx": i, "text": f"paragraph {i} with a few more words",
             "char_start": 0, "char_end": 1, "status": "removed" if i == 4 else "kept"} for i in range(2500)]
    seen: list[tuple[str, int]] = []
    dedup.run(pa.Table.from_pylist(rows, schema=schema.PARAGRAPHS), DedupParams(),
              progress=lambda phase, k: seen.append((phase, k)))
    assert sum(k for phase, k in seen if phase == "sketch") == 2499
    assert [p for p, _ in seen if p != "sketch"] == ["candidates", "clusters", "containment", "marks"]
    assert gc.isenabled()
