"""Extraction: paragraphs with exact offsets, titles, and HTML through trafilatura."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest
from conftest import RAW

from pipeline import schema, textutil
from pipeline.params import ExtractParams
from pipeline.stages import extract


def _doc(content: str, fmt: str = "text", doc_id: str = "d") -> pa.Table:
    row = {"doc_id": doc_id, "source_path": f"{doc_id}.txt", "source_sha256": "0",
           "source_bytes": len(content), "source_format": fmt, "compression": None,
           "encoding": "utf-8", "url": None, "content": content}
    return pa.Table.from_pylist([row], schema=schema.DOCUMENTS_RAW)


def test_offsets_index_the_extracted_text() -> None:
    text = "  Title line here today\r\n\r\n\tBody one.  \n\u00a0\nBody two\u2028Body three\n"
    res = extract.run(_doc(text), ExtractParams())
    docs = res.tables["documents"].to_pylist()
    paras = res.tables["paragraphs"].to_pylist()
    extracted = docs[0]["extracted_text"]
    assert [p["text"] for p in paras] == ["Title line here today", "Body one.", "Body two", "Body three"]
    for p in paras:
        assert extracted[p["char_start"]:p["char_end"]] == p["text"]
        assert p["status"] == "kept"
    assert [p["para_idx"] for p in paras] == [0, 1, 2, 3]


@pytest.mark.parametrize("lines, title", [
    (["Russia to probe Canada for saving 31 men", "Body."], "Russia to probe Canada for saving 31 men"),
    (["Now Reading", "Canadian charity smuggles 31 men", "Body."], "Canadian charity smuggles 31 men"),
    (["This is a sentence, not a headline.", "Body."], None),
])
def test_text_title(lines: list[str], title: str | None) -> None:
    assert extract.text_title(lines, ExtractParams()) == title


def test_html_extraction_keeps_metadata_and_drops_comments() -> None:
    html = (RAW / "sh_14cc2a0ca59c62a8.html").read_text(encoding="utf-8")
    res = extract.run(_doc(html, "html", "sh"), ExtractParams())
    doc = res.tables["documents"].to_pylist()[0]
    assert doc["title"].startswith("NASA Just Confirmed There Are Water Plumes")
    assert doc["url"].startswith("https://www.sciencealert.com/")
    assert doc["date"] == "2019-11-18" and doc["site"] == "ScienceAlert"
    paras = res.tables["paragraphs"].to_pylist()
    assert len(paras) > 10
    assert paras[0]["text"].startswith("A team led by researchers out of NASA's Goddard")


def test_extractor_failure_is_a_reject_and_the_batch_goes_on() -> None:
    def broken(html: str, params: ExtractParams) -> None:
        raise RuntimeError("parser exploded")

    docs = pa.concat_tables([_doc("<html>x</html>", "html", "a"),
                             _doc("Fine headline here\nBody.", "text", "b")])
    res = extract.run(docs, ExtractParams(), html_extractor=broken)
    rejects = res.tables["rejects"].to_pylist()
    assert [(r["doc_id"], r["reason_code"]) for r in rejects] == [("a", "extract_error")]
    assert "parser exploded" in rejects[0]["reason"]
    assert res.tables["documents"].column("doc_id").to_pylist() == ["b"]


def test_normalise_ignores_case_quotes_and_spacing() -> None:
    a = "“We now have to focus,” he said."
    b = "‘we NOW have  to focus’ He said"
    assert textutil.normalise(a) == textutil.normalise(b) == "we now have to focus he said"


def _reference_paragraphs(text: str) -> list[tuple[int, int, str]]:
    """The paragraphs by their definition: each maximal run of non-separator characters, stripped,
    if anything is left, with its offsets."""
    rows = []
    for m in re.finditer(r"[^\r\n\u2028\u2029]+", text):
        stripped = m.group().strip()
        if stripped:
            start = m.start() + len(m.group()) - len(m.group().lstrip())
            rows.append((start, start + len(stripped), stripped))
    return rows


def test_split_paragraphs_is_every_non_blank_line() -> None:
    """textutil.split_paragraphs (extract's columnar splitter) gives the reference's rows, for
    every separator and every kind of blank (random strings over an alphabet of them)."""
    import random

    alphabet = ["a", "b", " ", "\t", "\n", "\r", "\u2028", "\u2029", "\u00a0", "\x1c", "\x0b", "\x85", "é"]
    rnd = random.Random(8)
    for _ in range(5000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 24)))
        texts, starts, ends = textutil.split_paragraphs(text)
        rows = list(zip(starts, ends, texts, strict=True))
        assert rows == _reference_paragraphs(text), repr(text)
