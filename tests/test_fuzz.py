"""Property-based tests: arbitrary bytes and Unicode through every stage function.

Whatever comes in, no exception escapes a stage, every input file ends as an article or a
reject with a reason, and every paragraph has a status (and a reason when removed). Each
property runs a modest number of examples in the default suite and many more under the
`fuzz` marker (`pytest -m fuzz`, not run by CI).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import schema
from pipeline.params import DedupParams, ExtractParams, IngestParams, StripParams
from pipeline.rules import load_rules
from pipeline.stages import dedup, export, extract, ingest, strip

RULES = load_rules()
CI_EXAMPLES, FUZZ_EXAMPLES = 40, 2000
_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]

# Pieces that make arbitrary text look like markup, entities, declarations and chrome.
_MARKUP = ["<p>", "</p>", "<div>", "</div>", "<article>", "<script>", "</script>", "<style>", "<br>",
           "<!--", "-->", "<![CDATA[", "]]>", "&amp;", "&#0;", "&#xD800;", "&nbsp;", "&bomb;",
           '<?xml version="1.0" encoding="utf-16"?>', '<meta charset="x-unknown">',
           '<!DOCTYPE html [<!ENTITY bomb "&bomb;&bomb;">]>', "<html>", "<body>", "<title>",
           "<a href='http://x'>", "</a>", "<li>", "<table><tr><td>", "\n", "\r\n", "\u2028", "\x00",
           "Share this:", "Leave a Reply", "5 Comments", "Related Stories"]
_NAMES = ["a.txt", "b.html", "c.htm", "d.txt.gz", "e.html.gz", "f.pdf", "g", "h i.txt", "j\nk.txt",
          "ü/ñ.html", "x.xhtml"]

texts = st.text(st.characters(codec="utf-8"), max_size=300)
htmlish = st.lists(st.one_of(st.sampled_from(_MARKUP), texts), max_size=30).map("".join)
raw_bytes = st.one_of(st.binary(max_size=600), texts.map(lambda t: t.encode("utf-8")),
                      htmlish.map(lambda t: t.encode("utf-8")),
                      st.tuples(texts, st.sampled_from(["latin-1", "utf-16", "cp1251", "utf-8-sig"]))
                      .map(lambda p: p[0].encode(p[1], errors="replace")))


@st.composite
def raw_files(draw: Callable[..., Any]) -> pa.Table:
    names = draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=6, unique=True))
    rows = []
    for name in sorted(names):
        data = draw(raw_bytes)
        if name.endswith(".gz") and draw(st.booleans()):
            data = gzip.compress(data, mtime=0)[: draw(st.integers(1, 10_000))]  # maybe truncated
        rows.append({"source_path": name, "data": data, "read_error": None, "read_error_code": None})
    return pa.Table.from_pylist(rows, schema=schema.RAW)


def _both(prop: Callable[..., None], *strategies: st.SearchStrategy) -> tuple[Any, Any]:
    """The same property as a quick CI test and as a long `fuzz` run."""
    ci = settings(max_examples=CI_EXAMPLES, deadline=None, suppress_health_check=_HEALTH,
                  derandomize=True)(given(*strategies)(prop))
    long = settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=_HEALTH)(
        given(*strategies)(prop))
    return ci, pytest.mark.fuzz(long)


def _assert_rejects_explained(rejects: pa.Table) -> None:
    for r in rejects.to_pylist():
        assert r["reason_code"] and r["reason"].startswith(r["reason_code"] + ": "), r
        assert r["stage"] and r["source_path"] is not None


def _ingest_property(raw: pa.Table) -> None:
    res = ingest.run(raw, IngestParams(max_decompressed_bytes=100_000))
    docs, rejects = res.tables["documents"], res.tables["rejects"]
    fates = docs.column("source_path").to_pylist() + rejects.column("source_path").to_pylist()
    assert sorted(fates) == sorted(raw.column("source_path").to_pylist())
    _assert_rejects_explained(rejects)
    for d in docs.to_pylist():
        assert d["content"].strip() and d["encoding"]


test_ingest_any_bytes, test_ingest_any_bytes_fuzz = _both(_ingest_property, raw_files())


def _documents(contents: list[tuple[str, str]]) -> pa.Table:
    rows = [{"doc_id": f"d{i}", "source_path": f"d{i}.{fmt}", "source_sha256": "0", "source_bytes": 0,
             "source_format": fmt, "compression": None, "encoding": "utf-8", "url": None, "content": c}
            for i, (fmt, c) in enumerate(contents)]
    return pa.Table.from_pylist(rows, schema=schema.DOCUMENTS_RAW)


def _extract_property(contents: list[tuple[str, str]]) -> None:
    docs = _documents(contents)
    res = extract.run(docs, ExtractParams(timeout_seconds=20))
    out, paras, rejects = (res.tables[k] for k in ("documents", "paragraphs", "rejects"))
    fates = out.column("doc_id").to_pylist() + rejects.column("doc_id").to_pylist()
    assert sorted(fates) == sorted(docs.column("doc_id").to_pylist())
    _assert_rejects_explained(rejects)
    text_of = dict(zip(out.column("doc_id").to_pylist(), out.column("extracted_text").to_pylist(),
                       strict=True))
    for p in paras.to_pylist():
        assert p["status"] == schema.KEPT and p["text"].strip()
        assert text_of[p["doc_id"]][p["char_start"]:p["char_end"]] == p["text"]
    assert set(paras.column("doc_id").to_pylist()) == set(text_of)


documents = st.lists(st.tuples(st.sampled_from(["text", "html"]), st.one_of(texts, htmlish)),
                     min_size=1, max_size=4)
test_extract_any_text, test_extract_any_text_fuzz = _both(_extract_property, documents)


def _paragraphs(docs: list[list[str]]) -> tuple[pa.Table, pa.Table]:
    rows = [{"doc_id": f"d{i}", "para_idx": j, "text": t, "char_start": 0, "char_end": len(t),
             "status": schema.KEPT} for i, doc in enumerate(docs) for j, t in enumerate(doc)]
    meta = [{"doc_id": f"d{i}", "hostname": None, "source_path": f"s/d{i}.txt", "source_format": fmt,
             "date": None} for i, fmt in zip(range(len(docs)), ["text", "html"] * len(docs), strict=False)]
    return (pa.Table.from_pylist(rows, schema=schema.PARAGRAPHS),
            pa.Table.from_pylist(meta, schema=schema.DOCUMENTS))


def _assert_fates(before: pa.Table, after: pa.Table) -> None:
    """The same rows come out (none lost, none added), each kept or removed with a reason."""
    def rows(t: pa.Table) -> list[tuple]:
        return sorted((r["doc_id"], r["para_idx"], r["text"]) for r in t.to_pylist())

    assert rows(after) == rows(before)
    for r in after.to_pylist():
        assert r["status"] in (schema.KEPT, schema.REMOVED)
        if r["status"] == schema.REMOVED:
            assert r["stage"] and r["rule_id"] and r["reason"]


paragraph_text = st.one_of(texts, htmlish, st.sampled_from(_MARKUP))
corpora = st.lists(st.lists(paragraph_text, min_size=1, max_size=8), min_size=1, max_size=4)


def _strip_property(docs: list[list[str]]) -> None:
    paras, meta = _paragraphs(docs)
    res = strip.run(paras, meta, RULES, StripParams(site_template_min_docs=2))
    _assert_fates(paras, res.tables["paragraphs"])


test_strip_any_paragraphs, test_strip_any_paragraphs_fuzz = _both(_strip_property, corpora)


def _dedup_property(docs: list[list[str]], copies: list[tuple[int, int]]) -> None:
    for a, b in copies:  # plant exact copies between documents
        src = docs[a % len(docs)]
        docs[b % len(docs)].append(src[a % len(src)])
    paras, meta = _paragraphs(docs)
    res = dedup.run(paras, DedupParams(min_words=1, minhash_min_words=2), meta)
    out = res.tables["paragraphs"]
    _assert_fates(paras, out)
    kept = {f"{r['doc_id']}:{r['para_idx']}" for r in out.to_pylist() if r["status"] == schema.KEPT}
    for r in out.to_pylist():
        if r["status"] == schema.REMOVED and r["dup_of"]:
            assert r["dup_of"] in kept


test_dedup_any_paragraphs, test_dedup_any_paragraphs_fuzz = _both(
    _dedup_property, corpora, st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), max_size=5))


def _chain_property(raw: pa.Table) -> None:
    """ingest -> extract -> strip -> dedup -> export as pure functions: export's books balance."""
    ing = ingest.run(raw, IngestParams(max_decompressed_bytes=100_000))
    ext = extract.run(ing.tables["documents"], ExtractParams(timeout_seconds=20))
    docs = ext.tables["documents"]
    stripped = strip.run(ext.tables["paragraphs"], docs, RULES, StripParams())
    deduped = dedup.run(stripped.tables["paragraphs"], DedupParams(), docs)
    rejects = pa.concat_tables([ing.tables["rejects"], ext.tables["rejects"]])
    info = export.RunInfo("test", "p", "r", raw.num_rows, ext.tables["paragraphs"].num_rows)
    res = export.run(docs.drop_columns(["extracted_text"]), deduped.tables["paragraphs"], rejects, info)
    arts, rej = res.tables["articles"], res.tables["rejects"]
    assert arts.num_rows + rej.num_rows == raw.num_rows
    _assert_rejects_explained(rej)


test_chain_any_files, test_chain_any_files_fuzz = _both(_chain_property, raw_files())
