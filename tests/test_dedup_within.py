"""dedup.within_document_min_words: short repeats inside one document are structure, not copies."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline import schema
from pipeline.params import DedupParams, ParamsError, params_from_mapping
from pipeline.stages import dedup

SHORT = "Did you take the train today?"  # 6 words: exact and MinHash territory, below 9
LONG = "The ministry said on tuesday that the new rail line would open next spring after years of delay"
NEAR_SHORT = ("Our team of engineers checked every single line of the report today",  # 12 words
              "Our team of engineers checked every single line of the report today again")


def _fates(items: list[tuple[str, int, str]], params: DedupParams | None = None) -> dict:
    rows = [{"doc_id": d, "para_idx": i, "text": t, "char_start": 0, "char_end": len(t), "status": "kept"}
            for d, i, t in items]
    res = dedup.run(pa.Table.from_pylist(rows, schema=schema.PARAGRAPHS), params or DedupParams())
    return {(r["doc_id"], r["para_idx"]): (r["status"], r["rule_id"], r["dup_of"])
            for r in res.tables["paragraphs"].to_pylist()}


def test_short_repeat_within_a_document_is_kept_long_one_removed() -> None:
    out = _fates([("a", 0, SHORT), ("a", 1, LONG), ("a", 2, SHORT), ("a", 3, LONG)])
    assert out[("a", 2)] == ("kept", None, None)
    assert out[("a", 3)] == ("removed", "exact_duplicate_v1", "a:1")


def test_short_repeat_across_documents_is_still_removed() -> None:
    out = _fates([("a", 0, SHORT), ("b", 0, SHORT)])
    assert out[("b", 0)] == ("removed", "exact_duplicate_v1", "a:0")


def test_zero_turns_the_rule_off() -> None:
    out = _fates([("a", 0, SHORT), ("a", 1, SHORT)], DedupParams(within_document_min_words=0))
    assert out[("a", 1)] == ("removed", "exact_duplicate_v1", "a:0")


def test_near_pairs_follow_the_same_rule() -> None:
    items = [("a", 0, NEAR_SHORT[0]), ("a", 1, NEAR_SHORT[1])]
    assert _fates(items, DedupParams(within_document_min_words=13))[("a", 1)][0] == "kept"
    assert _fates(items)[("a", 1)][:2] == ("removed", "near_duplicate_minhash_v1")


def test_a_short_key_repeated_in_one_document_still_finds_its_near_copy_elsewhere() -> None:
    # Both short copies in document a enter LSH, so each is linked to b's near copy.
    # (b's copy is nearer to them than 0.9: one word appended to 16; both rows are below 20 words.)
    text = LONG
    items = [("a", 0, text), ("a", 1, text), ("b", 0, text + " officials")]
    out = _fates(items, DedupParams(within_document_min_words=20))
    assert out[("b", 0)][:2] == ("removed", "near_duplicate_minhash_v1")
    assert out[("a", 1)][0] == "removed"  # transitively, through b


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_impossible_values_are_refused(bad: object) -> None:
    with pytest.raises(ParamsError, match="within_document_min_words"):
        params_from_mapping({"dedup": {"within_document_min_words": bad}})
