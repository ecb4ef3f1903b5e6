"""The RE2 gates of the line rules must find something wherever the rule does, over the ASCII view,
and the batch path (`LineMatcher.candidates`, then `marks`) must give every paragraph the rule
that trying every rule gives."""

from __future__ import annotations

import re
from collections.abc import Iterator
from re import _compiler, _parser
from re import _constants as C
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.rules import exact_key, load_rules
from pipeline.rules import re2gate as g
from pipeline.rules.asciiview import ascii_view, kind
from pipeline.rules.lines import LineMatcher
from pipeline.rules.prefilter import needs_of

RULES = load_rules().line_rules
MATCHER = LineMatcher(RULES)
WORDS = sorted({word for r in RULES if r.compiled is not None and (n := needs_of(r.compiled)) is not None
                for word in n.prefixes | n.literals | n.cased}
               | {key for r in RULES for key in r.exact}
               | {"AP", "Reuters", "Getty Images", "likes", "comments", "© 2024", "(AP Photo/Evan Vucci)",
                  "a@b.com", "updated", "12:30", "2024-05-01", "3/4/2024", "jan", "monday,",
                  "file-slug-name"})
# Case folding and digit traps: "ſ" and the Kelvin sign match "s" and "k" case ignored, "İ" and
# "ı" match "i"; "ß" and "ﬁ" casefold to two letters; "٣" and "２" are decimal digits (`\d`), "²"
# is not; "\xa0" and "\u2003" are spaces to str.split and `\s`; Cyrillic and CJK letters are `\w`.
TRICKY = ["ſ", "İ", "ı", "\u212a", "ß", "ﬁ", "µ", "ς", "Σ", "é", "’", "“", "©", "—", "…", "\xa0", "\u2003",
          "\t", "\n", "\x0b", "\x1c", " ", ":", ".", "/", "|", "@", "12", "٣", "２", "²", "Кочан", "日本"]
PIECES = WORDS + TRICKY + ["the", "1", "2019", "said", "Photo:", "by", "s", "k", "i"]
GATES = [(r, g.exact_superset(r.exact) if r.match == "exact" else g.superset(r.compiled)) for r in RULES
         if r.match == "exact" or r.compiled is not None]


def _first_by_every_rule(text: str, index: int, count: int):
    return next((r for r in RULES if r.in_position(index, count) and r.matches(text)), None)


def _view(texts: list[str]) -> pa.Array:
    return ascii_view(pa.array(texts, pa.string()))[0]


def _variants(text: str) -> list[str]:
    return [text, text.upper(), text.lower(), text.title(), text.replace("s", "ſ").replace("k", "\u212a"),
            text.replace("i", "ı").replace("I", "İ"), text.replace(" ", "\xa0"), text.replace("1", "٣"),
            " \t" + text + "\n"]


@st.composite
def _texts(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(PIECES), max_size=20))
    joiners = draw(st.lists(st.sampled_from([" ", "", "  ", "\xa0", "\n", ". "]), min_size=len(parts),
                            max_size=len(parts)))
    return "".join(p + j for p, j in zip(parts, joiners, strict=True)).strip() or "x"


def test_view_in_slices_is_the_view_of_the_whole() -> None:
    texts = ["plain", "é “x” ſ ß 1٣ 𝟘\xa0\u2003", "", "Кочан", None, "a\x01b", "ｆｕｌｌ", "x"] * 3
    whole = ascii_view(pa.array(texts, pa.string()), slice_rows=len(texts))
    for rows in (1, 2, 5, 7):
        view, multi = ascii_view(pa.array(texts, pa.string()), slice_rows=rows)
        assert view.to_pylist() == whole[0].to_pylist() and multi.tolist() == whole[1].tolist()
    with pytest.raises(ValueError, match="slice_rows"):
        ascii_view(pa.array(texts, pa.string()), slice_rows=0)


def test_view_has_one_byte_per_character_of_its_kind() -> None:
    texts = ["plain", "é “x” ſ ß 1٣ 𝟘\xa0\u2003", "", "Кочан", None, "a\x01b"]
    view = ascii_view(pa.array(texts, pa.string()))
    assert view[1].tolist() == [False, True, False, False, False, False]
    assert view[0].to_pylist() == ["plain", "\x03 \x06x\x06 \x04 \x05 1\x02 \x02\x01\x01", "", "\x03" * 5,
                                   None, "a\x01b"]
    sliced = ascii_view(pa.array(texts, pa.string()).slice(3, 2))[0]  # an offset into the buffers
    assert sliced.to_pylist() == ["\x03" * 5, None]
    for few in (["a", None, "é"], ["", ""], [], [None]):
        assert ascii_view(pa.array(few, pa.string()))[0].to_pylist() == [
            None if t is None else "".join(c if c.isascii() else chr(kind(c)) for c in t) for t in few]


def test_kinds_decide_python_classes_and_case_folding() -> None:
    """Over every non-ASCII code point: the kind of a character says which of `\\s`, `\\d`, `\\w`
    match it, and which ASCII letters it matches case ignored (the claims of re2gate)."""
    space, digit, word = re.compile(r"\s"), re.compile(r"\d"), re.compile(r"\w")
    letters, others = re.compile("[a-z]", re.I), re.compile("[" + re.escape(
        "".join(chr(c) for c in range(128) if not chr(c).isalpha())) + "]", re.I)
    for code in range(0x80, 0x110000):
        char = chr(code)
        found = kind(char)
        assert not others.match(char)
        if letters.match(char):
            assert found in (g.CASED, g.MULTI) and char in "\u0130\u0131\u017f\u212a"
        if found == g.MULTI:
            assert code < 0x10000
            continue
        assert (found == g.SPACE) == bool(space.match(char))
        assert (found == g.DIGIT) == bool(digit.match(char))
        assert (found in (g.DIGIT, g.WORD, g.CASED)) == bool(word.match(char))
        assert (found == g.CASED) == bool(letters.match(char))
        folded = char.casefold()
        assert not folded.isascii() or found == g.CASED


def _char_nodes(items: Any) -> Iterator[tuple[Any, Any]]:
    for op, av in items:
        if op in (C.LITERAL, C.NOT_LITERAL, C.IN, C.ANY):
            yield op, av
        elif op is C.SUBPATTERN:
            yield from _char_nodes(av[3])
        elif op is C.BRANCH:
            for branch in av[1]:
                yield from _char_nodes(branch)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            yield from _char_nodes(av[2])
        elif op in (C.ATOMIC_GROUP, C.ASSERT, C.ASSERT_NOT):
            yield from _char_nodes(av if op is C.ATOMIC_GROUP else av[1])


def test_every_character_node_of_the_rules_matches_in_the_view() -> None:
    """Each one-character node of every rule, on a character of each kind and every character the
    rules name: where Python's node matches it, its class matches the character's view."""
    named = {chr(av) for r in RULES if r.compiled is not None
             for op, av in _char_nodes(_parser.parse(r.compiled.pattern, r.compiled.flags))
             if op is C.LITERAL and av >= 128}
    chars = sorted(named | {c for t in TRICKY for c in t} | set("ǅΐŉẞﬀ̇¹"))
    view = ascii_view(pa.array(chars))[0]
    for rule in RULES:
        if rule.compiled is None:
            continue
        flags = rule.compiled.flags
        for op, av in _char_nodes(_parser.parse(rule.compiled.pattern, flags)):
            node = _compiler.compile(_parser.SubPattern(_parser.State(), [(op, av)]), flags)
            hits = pc.match_substring_regex(view, f"^{g._char(op, g._hashable(av), flags)}$").to_pylist()
            for char, hit in zip(chars, hits, strict=True):
                assert hit or not node.fullmatch(char), (rule.id, op, av, char)


def test_every_rule_has_a_gate_that_finds_its_examples() -> None:
    for rule in RULES:
        gate = g.exact_superset(rule.exact) if rule.match == "exact" else g.superset(rule.compiled)
        assert gate is not None, rule.id
        texts = [v for t in rule.examples.get("match", []) for v in _variants(t)]
        texts += [v for key in rule.exact for v in _variants(key)]
        texts = [t for t in texts if rule.matches(t) and "ß" not in t]
        if texts:
            assert all(pc.match_substring_regex(_view(texts), gate).to_pylist()), rule.id


@settings(max_examples=100, deadline=None)
@given(st.lists(_texts(), min_size=1, max_size=8))
def test_gates_are_supersets_of_the_rules(texts: list[str]) -> None:
    texts = [v for t in texts for v in _variants(t)]
    view, multi = ascii_view(pa.array(texts))
    for rule, gate in GATES:
        hits = pc.match_substring_regex(view, gate).to_pylist()
        for text, hit, has_multi in zip(texts, hits, multi, strict=True):
            if rule.match == "exact":
                assert hit or has_multi or exact_key(text) not in rule.exact, (rule.id, text)
            else:
                assert hit or rule.compiled.search(text) is None, (rule.id, text)


@settings(max_examples=200, deadline=None)
@given(st.lists(_texts(), min_size=1, max_size=8), st.integers(0, 25))
def test_word_limit_keeps_every_short_text(texts: list[str], limit: int) -> None:
    texts = [v for t in texts for v in _variants(t)]
    hits = pc.match_substring_regex(_view(texts), g.word_limit(limit)).to_pylist()
    for text, hit in zip(texts, hits, strict=True):
        assert hit or len(text.split()) > limit, (limit, text)


@settings(max_examples=120, deadline=None)
@given(st.lists(_texts(), min_size=1, max_size=12))
def test_batch_candidates_give_the_rule_of_every_rule(paras: list[str]) -> None:
    """strip's batch path: candidates of the whole batch, rules tried on them only."""
    paras = [v for p in paras for v in _variants(p)]
    candidates = MATCHER.candidates(pa.chunked_array([pa.array(paras[:3]), pa.array(paras[3:])]))
    n = len(paras)
    expected = [_first_by_every_rule(p, i, n) for i, p in enumerate(paras)]
    assert MATCHER.marks(paras, list(candidates)) == expected


def test_batch_candidates_on_rule_examples() -> None:
    texts = [t for r in RULES
             for t in [*r.examples.get("match", []), *r.examples.get("no_match", []), *r.exact]]
    paras = [v for t in texts for v in _variants(t)]
    candidates = MATCHER.candidates(pa.array(paras))
    for i, text in enumerate(paras):  # each its own one-paragraph document
        found = MATCHER.first_match(text, 0, 1) if candidates[i] else None
        assert found is _first_by_every_rule(text, 0, 1)
    assert candidates.sum() < len(paras)  # the gate rules something out


def test_superset_rewrites() -> None:
    assert g.superset(re.compile(r"(a)\1")) is None  # back reference
    assert g.superset(re.compile(r"(?x) a b")) is None  # verbose: not modelled
    assert g.superset(re.compile(r"^ab$")) == r"^ab(?:\n?$)"
    assert g.superset(re.compile(r"\bfoo(?=bar)")) == "foo"
    assert g.superset(re.compile(r"x{2,20}y{3}")) == "(?:x){2,}(?:y){3}"
    # A caseless "s" matches "ſ" (kind CASED; and MULTI, for "İ" to "i"); a caseless ":" only itself.
    assert g.superset(re.compile("s:", re.I)) == "[\\x04-\\x05Ss]\\x3a"
    assert g.superset(re.compile(r"\d")) == "[\\x020-9]"
