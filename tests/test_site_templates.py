"""Site templates: short paragraphs recurring across one site's documents are chrome."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import runner
from pipeline.params import Params, StripParams
from pipeline.rules import load_rules
from pipeline.rules.templates import TemplateIndex, key_array, key_counts, site_of
from pipeline.stages import strip

BODY = "The council met on {day} to discuss the {topic}, and the debate ran late into the evening."


def _write(folder: Path, name: str, extra: list[str], day: str, topic: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"A headline about the {topic} today", BODY.format(day=day, topic=topic), *extra]
    (folder / name).write_text("\n\n".join(lines) + "\n", encoding="utf-8")


def test_paragraph_in_three_documents_of_a_site_is_template(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    footer = "Got a news tip? Call our desk any time"
    for i, (day, topic) in enumerate([("Monday", "budget"), ("Tuesday", "buses"), ("Friday", "parks")]):
        _write(raw / "site-a", f"{i}.txt", [footer], day, topic)
    _write(raw / "site-b", "0.txt", [footer], "Sunday", "roads")  # another site: only one document
    runner.run_all(raw, tmp_path / "out", Params())
    paras = pd.read_parquet(tmp_path / "out" / "paragraphs.parquet")
    footers = paras[paras.text == footer].set_index("doc_id")
    for doc in ("site-a/0", "site-a/1", "site-a/2"):
        row = footers.loc[doc]
        assert (row.status, row.stage, row.rule_id) == ("removed", "strip", "site_template")
        assert row.reason == "site_template: paragraph recurs in 3 documents of site folder:site-a"
    assert footers.loc["site-b/0", "status"] == "kept"
    arts = pd.read_parquet(tmp_path / "out" / "articles.parquet")
    assert len(arts) == 4


def test_each_template_row_names_its_own_document_count(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    tip, follow = "Got a news tip? Call our desk any time", "Follow us for more local stories"
    days = [("Monday", "budget"), ("Tuesday", "buses"), ("Friday", "parks"), ("Sunday", "roads")]
    for i, (day, topic) in enumerate(days):  # `follow` in all four documents, `tip` in three
        _write(raw / "site-a", f"{i}.txt", [tip, follow] if i < 3 else [follow], day, topic)
    runner.run_all(raw, tmp_path / "out", Params())
    paras = pd.read_parquet(tmp_path / "out" / "paragraphs.parquet")
    reasons = {text: set(paras[paras.text == text].reason) for text in (tip, follow)}
    assert reasons == {tip: {"site_template: paragraph recurs in 3 documents of site folder:site-a"},
                       follow: {"site_template: paragraph recurs in 4 documents of site folder:site-a"}}


def test_two_documents_are_not_enough_and_the_pass_can_be_off(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    footer = "Got a news tip? Call our desk any time"
    for i, (day, topic) in enumerate([("Monday", "budget"), ("Tuesday", "buses"), ("Friday", "parks")]):
        _write(raw, f"{i}.txt", [footer], day, topic)
    off = Params(strip=StripParams(site_template_min_docs=0))
    runner.run_all(raw, tmp_path / "out", off)
    paras = pd.read_parquet(tmp_path / "out" / "paragraphs.parquet")
    kept_footers = paras[(paras.text == footer) & (paras.status == "kept")]
    assert len(kept_footers) == 1  # the pass is off: dedup keeps the first copy only
    assert set(paras[paras.text == footer].rule_id.dropna()) == {"exact_duplicate_v1"}


def _counts(rows: list[tuple[str, str]], sites: dict[str, str], max_words: int) -> list[int]:
    doc_ids, texts = pa.array([d for d, _ in rows]), pa.array([t for _, t in rows])
    return key_counts(doc_ids, *key_array(texts, max_words), sites).column("n").to_pylist()


def test_template_counts_count_documents_not_occurrences() -> None:
    sites = {"a": "x.com", "b": "x.com"}
    assert _counts([("a", "Share this"), ("a", "Share this"), ("b", "share THIS!")], sites, 40) == [2]
    assert _counts([("a", "word " * 50)], sites, 40) == []


def test_site_of() -> None:
    assert site_of("www.Example.com", "a/b.html") == "example.com"
    assert site_of(None, "news/2019/a.txt") == "folder:news/2019"
    assert site_of(None, "a.txt") == "folder:"


def test_mark_pass_given_the_learn_pass_keys_marks_the_same(tmp_path: Path) -> None:
    """run_strip hands the mark pass each paragraph's key from the learn pass (column
    `template_key`); strip.run computing them itself gives the same table."""
    raw = tmp_path / "raw"
    footers = ["Got a news tip? Call our desk any time", "“Subscribe” — it’s free", "Да, подпишитесь"]
    for i, (day, topic) in enumerate([("Monday", "budget"), ("Tuesday", "buses"), ("Friday", "parks")]):
        _write(raw / "site-a", f"{i}.txt", footers, day, topic)
    runner.run_all(raw, tmp_path / "out", Params())
    ext = tmp_path / "out" / "stages" / "extract"
    paras, docs = pq.read_table(ext / "paragraphs.parquet"), pq.read_table(ext / "documents.parquet")
    params = StripParams()
    counts, keys = strip.learn_templates(paras, strip.sites_of(docs), params)
    index = TemplateIndex.of_counts(counts, params.site_template_min_docs, params.site_template_max_words)
    given = strip.run(paras.append_column("template_key", keys.column(0)), docs, load_rules(), params, index)
    computed = strip.run(paras, docs, load_rules(), params, index)
    assert given.tables["paragraphs"].equals(computed.tables["paragraphs"])
    assert given.counters == computed.counters and given.counters["removed_by_rule"]["site_template"] == 9
