"""The cheap tests before the line rules (prefixes, literals, digits) must not change which rule
matches a line (the batch path, `LineMatcher.candidates`: tests/test_re2gate.py)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.rules import load_rules
from pipeline.rules.lines import LineMatcher
from pipeline.rules.prefilter import Needs, Prefixes, fold, needs_of

RULES = load_rules().line_rules
MATCHER = LineMatcher(RULES)
# Words the rules look for, and the characters whose case folding differs from str.lower's.
WORDS = sorted({word for r in RULES if r.compiled is not None and (n := needs_of(r.compiled)) is not None
                for word in n.prefixes | n.literals | n.cased}
               | {"AP", "Reuters", "Getty Images", "likes", "comments", "replies", "a@b.com",
                  "updated", "12:30", "2024-05-01", "3/4/2024", "jan", "monday,"})
# Digits: "٣" is decimal (re's \d), "²" is a digit but not decimal.
TRICKY = ["ſ", "İ", "ı", "\u212a", "µ", "ς", "Σ", "é", "’", "©", " ", "\t", ":", ".", "@",
          "12", "٣", "²", "…"]


def _first_by_every_rule(text: str, index: int, count: int):
    return next((r for r in RULES if r.in_position(index, count) and r.matches(text)), None)


def test_needs_of_simple_patterns() -> None:
    found = needs_of(re.compile(r"\b(foo|bars?) b", re.I))
    assert found is not None and found.literals == {"foo", "bar"} and not found.prefixes
    found = needs_of(re.compile(r"^\d+ items?$"))
    assert found is not None and found.digit_start and not found.literals and not found.prefixes
    found = needs_of(re.compile(r"\d+ items?$"))  # not anchored: the literal, anywhere
    assert found is not None and found.literals == {" item"} and not found.digit_start
    found = needs_of(re.compile(r"^(\d+ )?comments|^\d+ replies", re.I))
    assert found is not None and found.digit_start and found.prefixes == {"comments"}
    # The parser moves the common "^" out of the branches: it is put back in each.
    found = needs_of(re.compile(r"^email [^.]+ at \S+@|^[^\s@]+@[^\s@]+$"))
    assert found is not None and found.prefixes == {"email "} and found.literals == {"@"}
    assert needs_of(re.compile(r"^(a|\d+)x")) == Needs(frozenset({"a"}), digit_start=True)
    assert needs_of(re.compile(r"(a|\d+)x")) is None  # unanchored: "\d+" needs no literal, "a" too short
    assert needs_of(re.compile(r"(?x) foo bar")) is None  # verbose: not modelled


def test_fold_follows_re_case_folding() -> None:
    for ch in ["ſ", "İ", "ı", "\u212a", "µ", "ς"]:
        for other in ["s", "i", "k", "μ", "σ"]:
            same = re.fullmatch(re.escape(other), ch, re.IGNORECASE) is not None
            assert same <= (fold(ch) == fold(other)), (ch, other)


def test_prefixes_report_every_rule_whose_prefix_starts_the_text() -> None:
    pre = Prefixes([(0, frozenset({"photo"})), (1, frozenset({"photograph"})), (2, frozenset({"pho"}))])
    assert pre.at_start(fold("PHOTOGRAPH by")) == {0, 1, 2}
    assert pre.at_start("phone") == {2}
    assert pre.at_start("a photo") == set()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS + TRICKY + ["the", "1", "2019", "said", "Photo:"]), max_size=25),
       st.integers(0, 5))
def test_matcher_agrees_with_every_rule(parts: list[str], from_end: int) -> None:
    text = " ".join(parts).strip() or "x"
    for variant in (text, text.upper(), text.title(), text.replace("s", "ſ").replace("i", "ı")):
        count = from_end + 1
        assert MATCHER.first_match(variant, 0, count) is _first_by_every_rule(variant, 0, count)


def test_matcher_agrees_on_rule_examples() -> None:
    for rule in RULES:
        for text in [*rule.examples.get("match", []), *rule.examples.get("no_match", [])]:
            for variant in (text, text.upper(), text.lower()):
                assert MATCHER.first_match(variant, 0, 1) is _first_by_every_rule(variant, 0, 1)


def _normalise_reference(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from([chr(c) for c in range(128)] + list("éİſKıςΣ—“”ﬁ２")), max_size=40))
def test_normalise_fast_path_is_the_same_form(text: str) -> None:
    """The ASCII translate path of `normalise` (site-template keys) gives the regex path's form."""
    from pipeline.textutil import normalise

    assert normalise(text) == _normalise_reference(text)
    assert normalise(text.encode("ascii", "ignore").decode()) == \
        _normalise_reference(text.encode("ascii", "ignore").decode())


def test_a_literal_containing_another_is_not_scanned_for() -> None:
    # One of the literals must occur; "photo credit" and "photograph" both hold "photo".
    found = needs_of(re.compile(r"(photo credit|photograph|photo|getty)", re.I))
    assert found is not None and found.literals == {"photo", "getty"}


def test_needs_of_reads_prefixes_literals_and_cased_literals() -> None:
    anchored = needs_of(re.compile(r"^(?!x)(share|follow)( this)? on|^\(?photo:", re.I))
    # Lookaheads take no text; "\(?" is optional: the second branch starts with "(" or "photo:".
    assert anchored is not None and anchored.prefixes == {"share", "follow", "(", "photo:"}
    both = needs_of(re.compile(r"^(Share|follow) us|all rights reserved\.?$", re.I))
    assert both is not None and both.prefixes == {"share", "follow"}
    assert both.literals == {"all rights reserved"}
    cased = needs_of(re.compile(r"[./]\s?(?:AP|AFP|Reuters)\s*$"))
    assert cased is not None and cased.cased == {"AP", "AFP", "Reuters"} and not cased.literals
    assert needs_of(re.compile(r"[./]\s?(?:AP|AFP)\s*$", re.I)) is None  # short and caseless
    assert needs_of(re.compile(r"^\d{4}-\d{2}")) == Needs(digit_start=True)
    # Not anchored on a digit, but every match holds one.
    assert needs_of(re.compile(r"^\w{4}-\d{2}")) == Needs(digit_anywhere=True)
    assert needs_of(re.compile(r"(a+|\d)(x|y\d?)")) is None  # "ax": no digit needed
    assert needs_of(re.compile(r"(?:\d{1,2}:\d\d|\d{4})\s*$")) == Needs(digit_anywhere=True)


def test_cased_literals_near_the_end() -> None:
    """A branch ending in `$` has its case-sensitive literals searched only near the end."""
    found = needs_of(re.compile(r"[./]\s?(?:AP|AFP|Reuters)(?: [Ff]ile)?\s*$"))
    assert found is not None and found.cased_window == len("/ Reuters file")
    assert needs_of(re.compile(r"[./]\s?(?:AP|Reuters).*$")).cased_window is None  # type: ignore[union-attr]
    tails = ["", " ", "\n", " \t\n", "\u2003", ".", " x", "\n\n"]
    for head in ["A caption. Photo: Jane Doe / ", "x/", "Reuters /", "/AP /"]:
        for agency in ["AP", "AFP", "Reuters", "Getty Images", "AP via Getty Images", "EPA-EFE", "ap"]:
            for suffix in ["", " File", " photo", " via Getty Images"]:
                for tail in tails:
                    text = head + agency + suffix + tail
                    assert MATCHER.first_match(text, 0, 1) is _first_by_every_rule(text, 0, 1), text
