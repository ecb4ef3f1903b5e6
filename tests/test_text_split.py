"""The columnar split of plain text (text_split) and extract's two paths against the per-document
reference: textutil.split_paragraphs, text_title and the per-document rejects."""

from __future__ import annotations

import sys
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import schema, textutil
from pipeline.params import ExtractParams
from pipeline.stages import extract, text_split
from pipeline.stages.extract import Extracted

# The traps: every line end, whitespace Python strips (some of it Arrow's table might not), a
# character that stopped being whitespace (U+180E), non-BMP, and multi-byte text.
NASTY = ["a", "b", "é", "\U0001f600", "\U00010348", " ", "\t", "\x0b", "\x0c", "\x1c", "\x1f", "\x85",
         "\xa0", "\u1680", "\u180e", "\u2000", "\u200b", "\u202f", "\u3000", "\ufeff", "\n", "\r", "\r\n",
         "\u2028", "\u2029", ".", "Word"]
nasty_text = st.lists(st.sampled_from(NASTY), max_size=40).map("".join)


def _rows(split: text_split.SplitColumn) -> list[tuple[int, int, str, int, int]]:
    return list(zip(split.doc.tolist(), split.para_idx.tolist(), split.text.to_pylist(),
                    split.char_start.tolist(), split.char_end.tolist(), strict=True))


def _reference(docs: list[str]) -> list[tuple[int, int, str, int, int]]:
    rows = []
    for i, doc in enumerate(docs):
        texts, starts, ends = textutil.split_paragraphs(doc)
        rows += [(i, k, *row) for k, row in enumerate(zip(texts, starts, ends, strict=True))]
    return rows


def test_whitespace_is_what_str_strip_removes() -> None:
    assert set(text_split.WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}


def test_every_code_point_splits_and_strips_as_python_does() -> None:
    """Each code point around text, at both ends and inside a line, in documents of 64 lines."""
    cps = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    docs = ["\n".join(f"{c}x{c}\ty{c}" for c in cps[i:i + 64]) for i in range(0, len(cps), 64)]
    split = text_split.split_column(pa.array(docs, pa.string()))
    reference = [textutil.split_paragraphs(d) for d in docs]  # compared column by column: 2.2M rows
    for got, column in [(split.text.to_pylist(), 0), (split.char_start.tolist(), 1),
                        (split.char_end.tolist(), 2)]:
        assert got == [x for ref in reference for x in ref[column]]
    assert split.counts.tolist() == [len(ref[0]) for ref in reference]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(nasty_text, max_size=12), st.integers(0, 3))
def test_split_column_is_split_paragraphs(docs: list[str], cut: int) -> None:
    """Any documents, also as a slice of a longer array (buffers that start elsewhere)."""
    array = pa.array(["\r\u2028 x"] * cut + docs + ["y\r"] * cut, pa.string()).slice(cut, len(docs))
    split = text_split.split_column(array)
    assert _rows(split) == _reference(docs)
    assert split.counts.tolist() == [len(textutil.split_paragraphs(d)[0]) for d in docs]


def test_other_line_ends_are_found_in_a_slice_only() -> None:
    array = pa.array(["a\rb", "plain", "c\u2029", "é\u2028"])
    assert text_split._has_other_line_ends(array)
    assert not text_split._has_other_line_ends(array.slice(1, 1))
    assert text_split._has_other_line_ends(array.slice(2, 1))
    assert text_split._has_other_line_ends(array.slice(3, 1))
    assert not text_split._has_other_line_ends(pa.array(["’ — “é”", ""]))
    assert not text_split._has_other_line_ends(pa.array([], pa.string()))


def test_null_content_is_refused() -> None:
    with pytest.raises(ValueError):
        text_split.split_column(pa.array(["a", None]))


def test_first_match_is_text_title() -> None:
    params = ExtractParams()
    docs = ["Now Reading\nCanadian charity smuggles 31 men\nBody.", "A sentence, not a title.\nNo\nx",
            "", "\n \n", "One two three four\nNext line here now", "a.\nb.\nc.\nFour words are here"]
    split = text_split.split_column(pa.array(docs))
    found = split.first_match(params.title_search_lines, lambda p: extract._is_title(p, params))
    expected = {i: extract.text_title(textutil.split_paragraphs(d)[0], params)
                for i, d in enumerate(docs) if textutil.split_paragraphs(d)[0]}
    assert found == expected
    assert expected[0] == "Canadian charity smuggles 31 men" and expected[5] is None


# extract.run against the per-document path (`_extract_one`), assembled here row by row.

def _fake_html(html: str, params: ExtractParams) -> Extracted | None:
    """Pages whose text is their markup minus the tags; "boom" fails, "none" finds nothing."""
    if "boom" in html:
        raise RuntimeError("boom")
    if "none" in html:
        return None
    return Extracted(html.replace("<p>", "\n"), "Page title", "https://ex.org/p", "2020-01-01", "Ex")


def _batch(docs: list[tuple[str, str | None]]) -> pa.Table:
    rows = [{"doc_id": f"d{i}", "source_path": f"p{i}", "source_sha256": str(i), "source_bytes": 1,
             "source_format": fmt, "compression": None, "encoding": "utf-8",
             "url": "http://host.example/x" if i % 3 == 0 else None, "content": content,
             "source_record": f"r{i}" if i % 2 else None}
            for i, (fmt, content) in enumerate(docs)]
    return pa.Table.from_pylist(rows, schema=schema.DOCUMENTS_RAW)


def _expected(batch: pa.Table, params: ExtractParams) -> tuple[list, list, list]:
    documents, paragraphs, rejects = [], [], []
    for doc in batch.to_pylist():
        try:
            ex, (texts, starts, ends) = extract._extract_one(doc, params, _fake_html)
        except Exception as exc:
            rejects.append((doc["doc_id"], "extract_error", f"extract_error: {type(exc).__name__}: {exc}"))
            continue
        if not texts:
            rejects.append((doc["doc_id"], "no_text_extracted", None))
            continue
        documents.append((doc["doc_id"], ex.title, ex.text, doc["url"] or ex.url, ex.date))
        paragraphs += [(doc["doc_id"], k, t, s, e)
                       for k, (t, s, e) in enumerate(zip(texts, starts, ends, strict=True))]
    return documents, paragraphs, rejects


def _got(res: Any) -> tuple[list, list, list]:
    docs = res.tables["documents"].select(["doc_id", "title", "extracted_text", "url", "date"])
    paras = res.tables["paragraphs"].select(["doc_id", "para_idx", "text", "char_start", "char_end"])
    rejects = [(r["doc_id"], r["reason_code"], r["reason"] if r["reason_code"] == "extract_error" else None)
               for r in res.tables["rejects"].to_pylist()]
    return ([tuple(r.values()) for r in docs.to_pylist()], [tuple(r.values()) for r in paras.to_pylist()],
            rejects)


formats = st.sampled_from(["text", "text", "text", "html", None])
contents = st.one_of(nasty_text, st.none(), nasty_text.map(lambda t: "<p>" + t),
                     st.sampled_from(["", "\n\n", "<p>boom", "<p>none", "<p>A b c<p>\r"]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(formats, contents), max_size=10))
def test_run_is_the_per_document_path(docs: list[tuple[str, str | None]]) -> None:
    """Mixed batches: text (null, empty, blank, every trap), HTML pages that fail or find nothing."""
    params = ExtractParams(title_min_words=1, timeout_seconds=0)  # titles found often; pages in this process
    batch = _batch(docs)
    res = extract.run(batch, params, html_extractor=_fake_html)
    documents, paragraphs, rejects = _expected(batch, params)
    assert _got(res) == (documents, paragraphs, rejects)
    assert res.tables["paragraphs"].schema == schema.PARAGRAPHS
    assert res.counters["documents"] == len(documents) and res.counters["paragraphs"] == len(paragraphs)
    assert res.counters["rejects"] == len(rejects)
    assert len(res.tables["rejects"]) == len(rejects)
    assert [r["doc_id"] for r in res.tables["rejects"].to_pylist()] == [r[0] for r in rejects]


def test_pages_and_null_content_take_the_per_document_path(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    split_column = text_split.split_column

    def spy(content: pa.StringArray) -> text_split.SplitColumn:
        seen.append(content.to_pylist())
        return split_column(content)

    monkeypatch.setattr(text_split, "split_column", spy)
    batch = _batch([("html", "<p>Page"), ("text", None), ("text", "Plain\r\ntext"), (None, "x\u2028y"),
                    ("text", " \n ")])
    res = extract.run(batch, ExtractParams(), html_extractor=_fake_html)
    assert seen == [["Plain\r\ntext", "x\u2028y", " \n "]]
    assert [(r["doc_id"], r["reason_code"]) for r in res.tables["rejects"].to_pylist()] == [
        ("d1", "extract_error"), ("d4", "no_text_extracted")]
    assert res.tables["paragraphs"].column("doc_id").to_pylist() == ["d0", "d2", "d2", "d3", "d3"]


def test_a_batch_without_text_or_without_rows() -> None:
    empty = extract.run(_batch([]), ExtractParams(), html_extractor=_fake_html)
    assert empty.counters["documents"] == 0 and empty.tables["paragraphs"].num_rows == 0
    pages = extract.run(_batch([("html", "<p>One<p>Two")]), ExtractParams(), html_extractor=_fake_html)
    assert pages.tables["paragraphs"].column("text").to_pylist() == ["One", "Two"]
