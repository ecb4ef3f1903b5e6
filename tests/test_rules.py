"""One test per rule id, driven by the examples each rule carries in its YAML file."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline import schema
from pipeline.params import StripParams
from pipeline.rules import RuleError, RuleSet, load_rules
from pipeline.stages import strip

RULES = load_rules()
ARTICLE = ("The council voted on Tuesday to extend the programme for another year, officials said, "
           "after a long debate about its cost and about who should pay for the new buses.")


def _table(doc_id: str, lines: list[str], links: list[float] | None = None,
           fmt: str = "text", title: str | None = None,
           tags: list[str] | None = None) -> tuple[pa.Table, pa.Table]:
    paras = [{"doc_id": doc_id, "para_idx": i, "text": t, "char_start": 0, "char_end": len(t),
              "status": "kept", "link_density": links[i] if links else None,
              "tag": tags[i] if tags else None} for i, t in enumerate(lines)]
    docs = pa.Table.from_pylist([{"doc_id": doc_id, "hostname": None, "source_format": fmt, "title": title}],
                                schema=schema.DOCUMENTS)
    return pa.Table.from_pylist(paras, schema=schema.PARAGRAPHS), docs


def _strip(lines: list[str], rules: RuleSet = RULES, links: list[float] | None = None,
           fmt: str = "text", title: str | None = None, tags: list[str] | None = None) -> list[dict]:
    paras, docs = _table("d", lines, links, fmt, title, tags)
    res = strip.run(paras, docs, rules, StripParams())
    return sorted(res.tables["paragraphs"].to_pylist(), key=lambda r: r["para_idx"])


def test_every_rule_has_examples_both_ways() -> None:
    for rule in RULES.rules:
        if rule.match == "heuristic":
            docs = rule.examples.get("documents", [])
            assert any(d["removed"] for d in docs) and any(not d["removed"] for d in docs), rule.id
        else:
            assert rule.examples.get("match") and rule.examples.get("no_match"), rule.id


@pytest.mark.parametrize("rule_id", [r.id for r in RULES.line_rules])
def test_line_rule(rule_id: str) -> None:
    rule = RULES.by_id(rule_id)
    for example in rule.examples["match"]:
        rows = _strip([ARTICLE, ARTICLE + " More text.", example])
        assert [r["status"] for r in rows[:2]] == ["kept", "kept"]
        row = rows[2]
        assert (row["status"], row["stage"], row["rule_id"]) == ("removed", "strip", rule_id), example
        assert row["reason"] == f"{rule.kind}: {rule.reason}"
    for example in rule.examples["no_match"]:
        assert not rule.matches(example), f"{rule_id} must not match {example!r}"


@pytest.mark.parametrize("rule_id", [r.id for r in RULES.structural_rules])
def test_structural_rule(rule_id: str) -> None:
    rule = RULES.by_id(rule_id)
    for doc in rule.examples["documents"]:
        rows = _strip(doc["lines"], links=doc.get("link_density"), fmt=doc.get("format", "text"),
                      title=doc.get("title"), tags=doc.get("tags"))
        removed = [r["para_idx"] for r in rows if r["rule_id"] == rule_id]
        assert removed == doc["removed"]
        for r in rows:
            if r["rule_id"] == rule_id:
                assert r["status"] == "removed" and r["reason"] == f"{rule.kind}: {rule.reason}"


def test_comment_header_takes_the_rest_but_specific_rules_keep_their_id() -> None:
    rows = _strip([ARTICLE, "3 Comments", "Great piece, thanks!", "Comments are closed."])
    assert [r["rule_id"] for r in rows] == [None, "comment_count_header_v1", "comment_count_header_v1",
                                            "comment_policy_notice_v1"]


def test_related_header_stops_at_the_first_sentence() -> None:
    rows = _strip([ARTICLE, "Related Stories", "A teaser headline about buses", ARTICLE + " Again."])
    assert [r["status"] for r in rows] == ["kept", "removed", "removed", "kept"]


def test_guard_keeps_a_document_that_is_mostly_chrome() -> None:
    rows = _strip(["Short intro line.", "Related Stories", "Teaser one about the buses",
                   "Teaser two about the trains", "Teaser three about the roads"])
    assert all(r["status"] == "kept" for r in rows)
    flagged = [r for r in rows if r["rule_id"]]
    assert len(flagged) == 4
    assert all(r["stage"] == "strip" and r["reason"].startswith("kept by guard") for r in flagged)


def test_disabled_rule_does_not_fire() -> None:
    rules = load_rules(disabled=("petition_link_v1",))
    rows = _strip([ARTICLE, "Petition: Save the buses"], rules)
    assert rows[1]["status"] == "kept"


def test_host_scoped_rule(tmp_path) -> None:
    (tmp_path / "site.yaml").write_text(
        "kind: site_ui\nrules:\n  - id: example_footer_v1\n    reason: footer of example.com\n"
        "    match: exact\n    exact: ['Example footer']\n    hosts: [example.com]\n", encoding="utf-8")
    rules = load_rules(tmp_path)
    rule = rules.by_id("example_footer_v1")
    assert rule.applies_to("www.example.com") and not rule.applies_to("other.org")
    assert not rule.applies_to(None)


@pytest.mark.parametrize("body, message", [
    ("kind: x\nrules:\n  - id: Bad-Id\n    reason: r\n    pattern: a\n", "id must be"),
    ("kind: x\nrules:\n  - id: bad_v1\n    reason: r\n    pattern: '('\n", "bad pattern"),
    ("kind: x\nrules:\n  - id: bad_v1\n    pattern: a\n", "a reason is required"),
    ("kind: x\nrules:\n  - id: bad_v1\n    reason: r\n    action: explode\n    pattern: a\n", "action"),
    ("kind: x\nrules:\n  - id: bad_v1\n    reason: r\n    match: heuristic\n    heuristic: nope\n",
     "unknown heuristic"),
    ("kind: x\nrules:\n  - id: a_v1\n    reason: r\n    pattern: a\n  - id: a_v1\n    reason: r\n"
     "    pattern: b\n", "duplicate rule ids"),
])
def test_bad_rule_files_are_refused_with_the_rule_id(tmp_path, body: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(RuleError, match=message):
        load_rules(tmp_path)


def test_unknown_disabled_rule_is_an_error() -> None:
    with pytest.raises(RuleError, match="unknown rule ids"):
        load_rules(disabled=("no_such_rule_v1",))


def test_format_scoped_rule_skips_other_formats() -> None:
    lines = [ARTICLE, "Watch the new trailer for the show", "Find out which city is the most expensive",
             "Ten songs released so far this year"]
    paras, docs = _table("d", lines, fmt="html")
    res = strip.run(paras, docs, RULES, StripParams())
    assert all(r["status"] == "kept" for r in res.tables["paragraphs"].to_pylist())
    assert [r["rule_id"] for r in _strip(lines)][1:] == ["trailing_teaser_block_v1"] * 3


def test_guard_does_not_count_a_sure_comment_section() -> None:
    comment = "I think the whole plan is a mistake and the council should start again from scratch. " * 3
    rows = _strip(["Short post.", "3 responses to “Short post”", comment, comment, comment])
    assert rows[0]["status"] == "kept"
    assert all(r["status"] == "removed" and r["rule_id"] == "comment_section_header_v1" for r in rows[1:])


def test_a_weak_comment_header_confirmed_by_an_author_line_escapes_the_guard() -> None:
    comment = "I think the whole plan is a mistake and the council should start again from scratch. " * 3
    author = "• Jane on September 12, 2018 at 4:47 pm said:"
    rows = _strip(["Short post.", "Comments", author, comment, comment])
    assert rows[0]["status"] == "kept"
    assert [r["rule_id"] for r in rows[1:]] == ["comment_count_header_v1", "comment_author_line_v1",
                                                "comment_count_header_v1", "comment_count_header_v1"]
    assert all(r["status"] == "removed" for r in rows[1:])
    assert "confirmed by a later comments line" in rows[1]["reason"]


def test_a_weak_comment_header_alone_is_still_guarded() -> None:
    comment = "I think the whole plan is a mistake and the council should start again from scratch. " * 3
    rows = _strip(["Short post.", "Comments", comment, comment])
    assert all(r["status"] == "kept" for r in rows)
    assert rows[1]["reason"].startswith("kept by guard")


def test_a_tail_section_header_only_takes_the_end_of_a_document() -> None:
    boiler = "Acme makes widgets in twelve countries and has offices in Baar and 900 staff."
    rows = _strip([ARTICLE, ARTICLE, ARTICLE, "About Acme", boiler])
    assert [r["rule_id"] for r in rows] == [None] * 3 + ["about_company_header_v1"] * 2
    mid = _strip([ARTICLE, "About Acme", ARTICLE, ARTICLE + " More.", ARTICLE + " Again."])
    assert all(r["status"] == "kept" and r["rule_id"] is None for r in mid)


def test_a_byline_label_takes_only_a_short_next_line() -> None:
    rows = _strip([ARTICLE, "By", "Randy Maniloff", ARTICLE + " More."])
    assert [r["rule_id"] for r in rows] == [None, "byline_label_v1", "byline_label_v1", None]
    long_next = _strip([ARTICLE, "By", ARTICLE + " More."])
    assert [r["status"] for r in long_next] == ["kept", "removed", "kept"]


def test_max_from_end_limits_a_rule_to_the_closing_paragraphs() -> None:
    boiler = "Acme is a global provider of widgets with offices in twelve countries."
    tail = _strip([ARTICLE, ARTICLE + " More.", ARTICLE + " Again.", ARTICLE + " End.", boiler])
    assert tail[-1]["rule_id"] == "company_boilerplate_v1"
    early = _strip([boiler, ARTICLE, ARTICLE + " More.", ARTICLE + " Again.", ARTICLE + " End."])
    assert all(r["status"] == "kept" for r in early)


def test_a_bad_max_from_end_is_refused(tmp_path) -> None:
    (tmp_path / "x.yaml").write_text("kind: test\nrules:\n  - id: x_v1\n    reason: r\n    pattern: 'x'\n"
                                     "    max_from_end: 0\n", encoding="utf-8")
    with pytest.raises(RuleError, match="x_v1: max_from_end must be a positive integer"):
        load_rules(tmp_path)


def test_marks_follow_paragraph_order_whatever_the_row_order() -> None:
    """A document's kept paragraphs are read in para_idx order, however its rows (and other
    documents' rows) are laid out; each mark goes back to its own row, rows stay where they were,
    and a row an earlier stage removed is left as it was."""
    a, docs_a = _table("a", [ARTICLE, "3 Comments", "Great piece, thanks!", "Comments are closed.", "x"])
    b, docs_b = _table("b", [ARTICLE, "Related Stories", "A teaser headline about buses", ARTICLE])
    rows = pa.concat_tables([a, b]).to_pylist()
    rows[4].update(status="removed", stage="extract", reason="an earlier stage's reason")
    order = [8, 2, 4, 0, 6, 3, 1, 7, 5]  # "Great piece, thanks!" before its header
    shuffled = pa.Table.from_pylist([rows[i] for i in order], schema=schema.PARAGRAPHS)
    docs = pa.concat_tables([docs_a, docs_b])
    out = strip.run(shuffled, docs, RULES, StripParams()).tables["paragraphs"].to_pylist()
    key = ("doc_id", "para_idx")
    assert [tuple(r[k] for k in key) for r in out] == [tuple(rows[i][k] for k in key) for i in order]
    by_key = {(r["doc_id"], r["para_idx"]): r for r in out}
    assert by_key[("a", 4)] == rows[4]
    assert [by_key[("a", i)]["rule_id"] for i in range(4)] == \
        [None, "comment_count_header_v1", "comment_count_header_v1", "comment_policy_notice_v1"]
    assert [by_key[("b", i)]["status"] for i in range(4)] == ["kept", "removed", "removed", "kept"]
