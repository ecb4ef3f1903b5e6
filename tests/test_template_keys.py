"""`templates.key_array` (a batch's keys, ASCII text in numpy) gives exactly `_key` of each text."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.rules.templates import (
    TemplateIndex,
    _key,
    add_counts,
    key_array,
    key_counts,
)

# Prose-like text: ASCII words and punctuation, with the characters that make text non-ASCII
# (typographic quotes, dashes, accents, combining marks, full-width forms, ligatures, "ſ", "İ").
_ALPHABET = st.sampled_from(list("abcXYZ019 _-.,;'\t\x1c\n") + list("’“”—é\u0301\u0338ﬁＡ１ſİß½"))
_TEXT = st.text(_ALPHABET, max_size=60)


def keys_of(texts: pa.Array | pa.ChunkedArray, max_words: int) -> list[int | None]:
    """`key_array` as one optional key per text, to compare with `_key`."""
    keys, valid = key_array(texts, max_words)
    return [k if v else None for k, v in zip(keys.tolist(), valid.tolist(), strict=True)]


def count_keys(doc_ids: list[str], keys: list[int | None], sites: dict[str, str]) -> Counter:
    """The reference count: per (site, key), the distinct documents holding that key."""
    pairs = {(doc_id, key) for doc_id, key in zip(doc_ids, keys, strict=True)
             if key is not None and doc_id in sites}
    return Counter((sites[doc_id], key) for doc_id, key in pairs)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT, max_size=30), st.integers(1, 12), st.integers(0, 5), st.integers(1, 7))
def test_keys_of_equals_key_of_each_text(texts: list[str], max_words: int, start: int, rows: int) -> None:
    column = pa.array(texts, type=pa.string())
    assert keys_of(column, max_words) == [_key(t, max_words) for t in texts]
    # Computed a few rows at a time (`slice_rows`), the keys are the same.
    keys, valid = key_array(column, max_words, slice_rows=rows)
    assert [int(k) if v else None for k, v in zip(keys, valid, strict=True)] == keys_of(column, max_words)
    # A slice (its buffers are the parent's) and a chunked column give the same keys.
    part = column.slice(min(start, len(texts)))
    assert keys_of(part, max_words) == [_key(t, max_words) for t in part.to_pylist()]
    chunked = pa.chunked_array([column.slice(0, start), column.slice(start)], type=pa.string())
    assert keys_of(chunked, max_words) == keys_of(column, max_words)


def test_keys_of_null_and_empty_texts() -> None:
    assert keys_of(pa.array([None, "", "  ", "Share this!"]), 5) == [None, None, None, _key("Share this!", 5)]
    assert keys_of(pa.array([], type=pa.string()), 5) == []


def test_long_non_ascii_text_is_refused_without_normalising() -> None:
    text = "“" + " ".join(f"word{i}" for i in range(50)) + "”"
    assert keys_of(pa.array([text]), 40) == [None] == [_key(text, 40)]
    # A non-ASCII letter inside a word does not split it: 8 words, not 16, so it has a key.
    inner = "naïve Zoë " * 4
    assert keys_of(pa.array([inner]), 10) == [_key(inner, 10)] != [None]


# ASCII (controls, digits, underscores, tabs, punctuation) and characters `keyfold` folds byte by
# byte (breaks; letters of several scripts and sizes, some with an upper case), which take the
# numpy path together; and a few characters that send a text to Python's normalise.
_FOLDED = list("\u00a0«»–—‘’‚“”„…×😀") + list("éÉёЁσΣςабвПРЯ中文가한ÆæĲ")
_PLAIN = st.text(st.sampled_from([chr(c) for c in range(128)] + _FOLDED), max_size=40)
_MIXED = st.text(st.sampled_from(list(" a1_.\t") + _FOLDED + list("é\u0301ﬁß\u1161")), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PLAIN, _MIXED, st.just(""), st.text("!?_-. \t", max_size=8)), max_size=25),
       st.integers(1, 8))
def test_key_array_equals_key_with_folded_and_control_characters(texts: list[str], max_words: int) -> None:
    keys, valid = key_array(pa.array(texts, type=pa.string()), max_words)
    expected = [_key(t, max_words) for t in texts]
    assert [int(k) if v else None for k, v in zip(keys, valid, strict=True)] == expected


def test_key_counts_add_up_to_count_keys() -> None:
    doc_ids = ["a", "a", "b", "c", "c", "d", "x"]
    texts = ["Share this", "share THIS!", "Share — this", "Share this", "Other", "“Other”", "Share this"]
    sites = {"a": "s.com", "b": "s.com", "c": "s.com", "d": "t.com"}  # x: no document row
    expected = count_keys(doc_ids, [_key(t, 5) for t in texts], sites)
    assert expected[("s.com", _key("share this", 5))] == 3
    # In two batches (a document's rows are all in one), added up.
    parts = [key_counts(pa.array(doc_ids[i:j]), *key_array(pa.array(texts[i:j]), 5), sites)
             for i, j in ((0, 3), (3, 7))]
    total = add_counts(parts)
    pairs = zip(total.column("site").to_pylist(), total.column("key").to_pylist(), strict=True)
    assert dict(zip(pairs, total.column("n").to_pylist(), strict=True)) == expected
    index = TemplateIndex.of_counts(total, 3, 5)
    assert index.counts == {("s.com", _key("share this", 5)): 3}
    assert index.documents_sharing_key("s.com", _key("SHARE, this", 5)) == 3 and add_counts([]).num_rows == 0
