"""Dedup: exact and verified near copies, earliest survivor, provenance of every copy."""

from __future__ import annotations

import pyarrow as pa

from pipeline import schema
from pipeline.params import DedupParams
from pipeline.stages import dedup

BASE = ("the ministry said on tuesday that the new rail line would open next spring after years "
        "of delay and a long fight over its cost")


def _run(items: list[tuple[str, int, str]], params: DedupParams | None = None, removed_by_strip=()):
    rows = [{"doc_id": d, "para_idx": i, "text": t, "char_start": 0, "char_end": len(t),
             "status": "removed" if (d, i) in removed_by_strip else "kept",
             "stage": "strip" if (d, i) in removed_by_strip else None} for d, i, t in items]
    res = dedup.run(pa.Table.from_pylist(rows, schema=schema.PARAGRAPHS), params or DedupParams())
    return {(r["doc_id"], r["para_idx"]): r for r in res.tables["paragraphs"].to_pylist()}, res.counters


def test_exact_copy_across_documents_points_to_the_earliest_doc() -> None:
    # Rows arrive in a scrambled order; the survivor is still the earliest by (doc_id, para_idx).
    out, counters = _run([("b", 0, BASE), ("a", 3, BASE.upper() + "!")])
    assert out[("a", 3)]["status"] == "kept"
    b = out[("b", 0)]
    assert (b["status"], b["stage"], b["rule_id"]) == ("removed", "dedup", "exact_duplicate_v1")
    assert b["dup_of"] == "a:3"
    assert b["similarity"] == 1.0 and "across documents" in b["reason"]
    assert counters["removed_across_documents"] == 1


def test_near_copy_is_verified_and_recorded() -> None:
    near = "The Ministry said, on Tuesday, " + BASE[len("the ministry said on tuesday "):] + " officials"
    out, _ = _run([("a", 0, BASE), ("a", 5, near)])
    r = out[("a", 5)]
    assert r["rule_id"] == "near_duplicate_minhash_v1" and r["dup_of"] == "a:0"
    assert 0.8 <= r["jaccard"] < 1.0 and 0.0 < r["similarity"] <= 1.0
    assert "within the document" in r["reason"]


def test_different_paragraphs_are_kept() -> None:
    other = "a completely different paragraph about football results and the weather on sunday afternoon"
    out, counters = _run([("a", 0, BASE), ("b", 0, other)])
    assert all(r["status"] == "kept" for r in out.values())
    assert counters["removed"] == 0


def test_rows_removed_by_strip_are_not_looked_at() -> None:
    out, _ = _run([("a", 0, BASE), ("b", 0, BASE)], removed_by_strip={("a", 0)})
    assert out[("b", 0)]["status"] == "kept"
    assert out[("a", 0)]["stage"] == "strip"


def test_short_paragraphs_only_match_exactly() -> None:
    out, _ = _run([("a", 0, "They are not people."), ("a", 1, "They are not people!"),
                   ("a", 2, "They are not humans.")], DedupParams(within_document_min_words=0))
    assert out[("a", 1)]["rule_id"] == "exact_duplicate_v1"
    assert out[("a", 2)]["status"] == "kept"


def test_threshold_is_respected() -> None:
    half = " ".join(BASE.split()[:12]) + " and then something else entirely happened in the city hall today"
    out, _ = _run([("a", 0, BASE), ("a", 1, half)])
    assert out[("a", 1)]["status"] == "kept"
    strict, _ = _run([("a", 0, BASE), ("a", 1, BASE + " indeed")], DedupParams(threshold=0.99))
    assert strict[("a", 1)]["status"] == "kept"


def test_jaccard_and_shingles() -> None:
    a = dedup.shingles("a b c d", 3)
    assert a == frozenset({"a b c", "b c d"})
    assert dedup.shingles("a b", 3) == frozenset({"a b"})
    assert dedup.jaccard(a, frozenset({"a b c"})) == 0.5


def test_near_copies_with_different_numbers_are_different_facts() -> None:
    offer = ("receive 20 percent off your purchase of three to five qualifying products and a free cleanser "
             "with your purchase of {} dollars or more after discounts and excluding taxes and shipping")
    out, counters = _run([("a", 0, offer.format(40)), ("a", 1, offer.format(55))])
    assert out[("a", 1)]["status"] == "kept"
    assert counters["candidates_rejected_by_numbers"] == 1
    same, _ = _run([("a", 0, offer.format(40)), ("a", 1, offer.format(40) + " today")])
    assert same[("a", 1)]["rule_id"] == "near_duplicate_minhash_v1"
    off, _ = _run([("a", 0, offer.format(40)), ("a", 1, offer.format(55))],
                  DedupParams(numbers_must_agree=False))
    assert off[("a", 1)]["rule_id"] == "near_duplicate_minhash_v1"
