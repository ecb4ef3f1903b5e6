"""Dedup internals: normalisation, datasketch parity, survivor policy, transitivity, containment."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasketch import MinHash

from pipeline import schema
from pipeline.dedup.minhash import lean_minhash, permutations, shingle_hashes, signatures, to_h32
from pipeline.dedup.normalise import normalise, token_hash, tokenise
from pipeline.dedup.unionfind import UnionFind
from pipeline.params import DedupParams
from pipeline.stages import dedup

WORDS = " ".join(["the council voted on monday to close the old bridge to cars after engineers found deep",
                  "cracks in two of its piers and said repairs would take at least a year"]).split(" ")


def _run(items, params=None, documents=None):
    rows = [{"doc_id": d, "para_idx": i, "text": t, "char_start": 0, "char_end": len(t), "status": "kept"}
            for d, i, t in items]
    res = dedup.run(pa.Table.from_pylist(rows, schema=schema.PARAGRAPHS), params or DedupParams(), documents)
    return {(r["doc_id"], r["para_idx"]): r for r in res.tables["paragraphs"].to_pylist()}, res


@pytest.mark.parametrize("a, b", [
    ("‘We now have…’", "“We now have...”"),
    ("ＦＵＬＬ width — and “quotes”", "full width - and \"quotes\""),
    ("Straße\u00a0 im\tNorden", "STRASSE im norden"),
    ("well-known_fact", "well known fact"),
])
def test_normalisation_folds_quotes_dashes_case_width_space(a: str, b: str) -> None:
    assert normalise(a) == normalise(b)
    assert tokenise([a]).hashes.tolist() == tokenise([b]).hashes.tolist()


def test_vectorised_tokens_match_the_scalar_reference() -> None:
    texts = ["He said: ‘We needed to be discreet.’", "", "हिन्दी भाषा", "a\nb", "Ünïcode café"]
    tok = tokenise(texts)
    for i, t in enumerate(texts):
        got = tok.hashes[tok.offsets[i]:tok.offsets[i + 1]].tolist()
        assert got == [token_hash(w) for w in normalise(t.replace("\n", " ")).split()]


def test_signatures_are_bit_identical_to_datasketch() -> None:
    sh = shingle_hashes(tokenise([" ".join(WORDS), "two words"]), 3)
    sig = signatures(sh, 128, 1)
    for i in range(2):
        m = MinHash(num_perm=128, seed=1, hashfunc=lambda v: v)
        m.update_batch(to_h32(sh.hashes[sh.offsets[i]:sh.offsets[i + 1]]).tolist())
        assert np.array_equal(m.hashvalues, sig[i])
    assert lean_minhash(sig[0], 1).jaccard(lean_minhash(sig[0], 1)) == 1.0


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (64, 7), (256, 12345), (1, 0)])
def test_permutations_are_datasketchs_own(num_perm: int, seed: int) -> None:
    m = MinHash(num_perm=num_perm, seed=seed)
    assert m.scheme == "affine32"
    a, b = permutations(num_perm, seed)
    assert a.dtype == b.dtype == np.uint32
    assert np.array_equal(a, m.permutations[0]) and np.array_equal(b, m.permutations[1])


def test_hashed_jaccard_equals_string_jaccard() -> None:
    a, b = " ".join(WORDS), " ".join([*WORDS[:20], "today", *WORDS[20:]])
    ref = dedup.jaccard(dedup.shingles(normalise(a), 3), dedup.shingles(normalise(b), 3))
    assert dedup.jaccard(dedup.shingle_set(a, 3), dedup.shingle_set(b, 3)) == ref


def test_union_find_is_order_independent() -> None:
    pairs = [(5, 9), (1, 5), (7, 8), (9, 2)]
    uf1, uf2 = UnionFind(), UnionFind()
    uf1.union_all(pairs)
    uf2.union_all(reversed(pairs))
    assert uf1.clusters() == uf2.clusters() == [[1, 2, 5, 9], [7, 8]]


def _edited(n: int) -> str:
    return " ".join(w for i, w in enumerate(WORDS) if i != n)


def test_clusters_are_transitive_and_input_order_free() -> None:
    # B is a near copy of A and C of B; every member points at the survivor A.
    base = " ".join(WORDS)
    items = [("c", 0, _edited(3) + " indeed"), ("a", 0, base), ("b", 0, _edited(3))]
    out, res = _run(items)
    assert out[("b", 0)]["dup_of"] == "a:0" and out[("c", 0)]["dup_of"] == "a:0"
    assert out[("a", 0)]["status"] == "kept"
    assert len({r["dup_cluster"] for r in out.values()}) == 1
    clusters = res.tables["dup_clusters"].to_pylist()
    assert clusters == [{"cluster_id": 0, "size": 3, "n_documents": 3, "survivor": "a:0",
                         "members": ["a:0", "b:0", "c:0"], "documents": ["a", "b", "c"]}]
    again, _ = _run(list(reversed(items)))
    assert again == out


def test_survivor_policies() -> None:
    base = " ".join(WORDS)
    items = [("a", 0, base), ("b", 0, base), ("b", 1, "a much longer other paragraph " * 10)]
    out, _ = _run(items, DedupParams(survivor="longest_document"))
    assert out[("a", 0)]["dup_of"] == "b:0" and out[("b", 0)]["status"] == "kept"
    docs = pa.table({"doc_id": ["a", "b"], "date": ["2020-05-01", "2019-01-01"]})
    out, _ = _run(items[:2], DedupParams(survivor="earliest_date"), docs)
    assert out[("a", 0)]["dup_of"] == "b:0"
    out, _ = _run(items[:2])
    assert out[("b", 0)]["dup_of"] == "a:0"


def test_scope_and_min_words() -> None:
    base = " ".join(WORDS)
    items = [("a", 0, base), ("a", 1, base), ("b", 0, base)]
    within, _ = _run(items, DedupParams(scope="within_document"))
    assert within[("a", 1)]["dup_of"] == "a:0" and within[("b", 0)]["status"] == "kept"
    across, _ = _run(items, DedupParams(scope="across_documents"))
    assert across[("b", 0)]["dup_of"] == "a:0"
    short, _ = _run([("a", 0, "Photo"), ("b", 0, "Photo")])
    assert short[("b", 0)]["status"] == "kept"


def test_containment_reported_and_removed_only_when_asked() -> None:
    long = " ".join(WORDS) + " and the mayor said the city would pay for ferries in the meantime"
    short = "“" + " ".join(WORDS[3:22]) + "”"
    items = [("a", 0, long), ("b", 0, short), ("b", 1, "nothing in common with anything else here at all")]
    out, res = _run(items)
    r = out[("b", 0)]
    assert (r["status"], r["contained_in"], r["containment"]) == ("kept", "a:0", 1.0)
    assert out[("b", 1)]["contained_in"] is None and res.counters["contained_reported"] == 1
    out, _ = _run(items, DedupParams(remove_contained_across_documents=True))
    assert out[("b", 0)]["rule_id"] == "contained_paragraph_v1" and out[("b", 0)]["status"] == "removed"
    out, _ = _run(items, DedupParams(remove_contained_within_document=True))
    assert out[("b", 0)]["status"] == "kept"


def test_backends_agree_on_the_sample_corpus(sample_out) -> None:
    table = pq.read_table(sample_out / "stages" / "strip" / "paragraphs.parquet")
    bands = dedup.run(table, DedupParams(backend="bands")).tables["paragraphs"]
    ds = dedup.run(table, DedupParams(backend="datasketch")).tables["paragraphs"]
    assert bands.equals(ds)
    assert bands.column("stage").to_pylist().count("dedup") == 3


def test_sample_corpus_clusters_and_quotation(sample_out, sample_paragraphs) -> None:
    clusters = pq.read_table(sample_out / "dup_clusters.parquet").to_pylist()
    assert [c["survivor"] for c in clusters] == [
        "002_60805fbeb22a933d:0", "003_52cc8d1029ea206c:11", "004_8603d2a1b1dc66df:1"]
    discreet = sample_paragraphs[sample_paragraphs.text.str.startswith("He said: ‘We needed")].iloc[0]
    assert discreet.status == "kept" and discreet.contained_in == "002_60805fbeb22a933d:9"
    assert discreet.containment >= 0.8


def test_new_params_are_validated() -> None:
    from pipeline.params import ParamsError
    for bad in ({"scope": "galaxy"}, {"survivor": "random"}, {"backend": "faiss"},
                {"containment_threshold": 0}, {"min_words": 0}):
        with pytest.raises(ParamsError):
            DedupParams(**bad)
