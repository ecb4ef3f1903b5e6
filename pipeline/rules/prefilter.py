r"""What a line rule needs of a paragraph before it can match, read off its parsed pattern.

Most regex rules cannot match unless the paragraph starts with one of a few words (an anchored
`^(share|follow) ...`) or a digit (`^\d{1,7} likes?`), or holds some literal
(`affiliate_disclosure_v1` needs "independently", "affiliate", ...) or a digit (a date).
`needs_of` reads that, branch by top-level branch, as `Needs`;
`lines.LineMatcher` tries a rule only where its needs hold. `Prefixes` answers, with one match of
a trie-shaped alternation at the start of a folded paragraph, which anchored rules may match.

Exactness: texts and literals are compared case-folded (`fold`), the way `re` folds case, so a
rule's literal occurs in the folded text wherever the rule finds it, whatever the rule's own case
flag; case-sensitive literals too short to be worth it folded ("AP") are compared as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from re import _constants as C  # the parser's opcodes, as in pipeline/rules/safety.py
from re import _parser
from re._casefix import _EXTRA_CASES  # type: ignore[import-not-found]
from typing import Any

from pipeline.rules.parsed import parse as parse_pattern

REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT}
# Flags under which the needs read off a pattern hold for what it finds; under any other
# (ASCII, VERBOSE...) the rule is always tried.
PLAIN_FLAGS = re.IGNORECASE | re.UNICODE
_Lits = frozenset[str]


def _better(a: _Lits | None, b: _Lits | None) -> _Lits | None:
    """The more selective of two requirements: longer shortest literal, then fewer literals."""
    if a is None or b is None:
        return a if b is None else b
    return a if (min(map(len, a)), -len(a)) >= (min(map(len, b)), -len(b)) else b


def _node(op: Any, av: Any) -> _Lits | None:
    if op is C.SUBPATTERN:
        return None if av[1] or av[2] else _sequence(av[3])  # scoped flags: not modelled
    if op is C.BRANCH:
        parts = [_sequence(b) for b in av[1]]
        return None if any(p is None for p in parts) else frozenset().union(*parts)
    if op in REPEATS:
        return _sequence(av[2]) if av[0] >= 1 else None
    if op is C.ATOMIC_GROUP:
        return _sequence(av)
    return None


def _sequence(sub: Any) -> _Lits | None:
    """A set of literals one of which every match of `sub` contains, or None."""
    best: _Lits | None = None
    run: list[str] = []
    for op, av in [*sub, (None, None)]:
        if op is C.LITERAL:
            run.append(chr(av))
            continue
        if run:
            best = _better(best, frozenset({"".join(run)}))
            run = []
        if op is not None:
            best = _better(best, _node(op, av))
    return best


# re matches a character to a pattern character, case ignored, when their simple lower cases are
# equal or listed together in re._casefix ("s" and "ſ"). `fold` maps both to one character, so a
# literal that matches some text, case ignored, occurs folded in the folded text. str.lower is
# the simple lower case but for "İ" (to "i" plus a dot) and the final sigma (in its class anyway).
_BEFORE = {0x130: "i"}
_CANON = {k: chr(min(k, *v)) for k, v in _EXTRA_CASES.items() if min(k, *v) != k}
_MIN_LEN = 3  # a literal shorter than this is in too many paragraphs to rule anything out
# ... unless it is a symbol prose rarely holds ("@": the bare e-mail address of contact_line_v1).
_RARE = frozenset("@©®™|#%€£$¥§¶•")


def _worth_scanning(literals: _Lits) -> bool:
    return all(len(x) >= _MIN_LEN or any(c in _RARE for c in x) for x in literals)


# str.translate looks every character up in a dict: search for the few that need it first.
_HAS_BEFORE = re.compile("[" + "".join(map(chr, _BEFORE)) + "]")
_HAS_CANON = re.compile("[" + re.escape("".join(map(chr, _CANON))) + "]")


def fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    low = (text.translate(_BEFORE) if _HAS_BEFORE.search(text) else text).lower()
    return low.translate(_CANON) if _HAS_CANON.search(low) else low


@dataclass(frozen=True)
class Needs:
    """What a text must hold for a rule to find anything in it, from one of its top-level
    branches: one of `prefixes` at its start (folded: the branch is anchored with `^`), a decimal
    digit at its start (`digit_start`: `^\\d`, "12 comments"), one of `literals` anywhere (folded),
    or one of `cased` anywhere as written (a case-sensitive branch whose literals are too short to
    scan for folded: "AP" is in "happen", not in its case)."""

    prefixes: frozenset[str] = frozenset()
    literals: frozenset[str] = frozenset()
    cased: frozenset[str] = frozenset()
    digit_start: bool = False
    digit_anywhere: bool = False  # a decimal digit anywhere (dates, times: `\\d` in every match)
    # The cased literals lie within this many characters of the end of the text without its
    # trailing whitespace (their branches end with `$`), or anywhere (None).
    cased_window: int | None = None


# `_starts`' mark for "a decimal digit" among the literal prefixes, which are never empty.
_DIGIT = ""


def needs_of(pattern: re.Pattern[str]) -> Needs | None:
    """The `Needs` of a rule's pattern, or None when one of its branches needs nothing known."""
    if pattern.flags & ~PLAIN_FLAGS:
        return None
    prefixes: set[str] = set()
    literals: set[str] = set()
    cased: set[str] = set()
    digit = anywhere = False
    windows: list[int | None] = []
    parsed = parse_pattern(pattern.pattern, pattern.flags)
    for items in _top_branches(list(parsed)):
        starts = _starts(items[1:]) if items and items[0] == (C.AT, C.AT_BEGINNING) else None
        lits = _sequence(items)
        if starts:
            digit = digit or _DIGIT in starts
            prefixes |= {fold(x) for x in starts if x != _DIGIT}
        elif lits and _worth_scanning(lits):
            literals |= {fold(x) for x in lits}
        elif lits and not pattern.flags & re.IGNORECASE and min(map(len, lits)) >= 2:
            cased |= lits
            windows.append(_end_width(parsed.state, items))
        elif _needs_digit(items):
            anywhere = True
        else:
            return None
    window = None if not windows or None in windows else max(windows)  # type: ignore[type-var]
    # One of the literals must occur: one that contains another is redundant (wherever it occurs,
    # so does the shorter one), and would cost a scan of every candidate for nothing.
    literals = {x for x in literals if not any(y != x and y in x for y in literals)}
    return Needs(frozenset(prefixes), frozenset(literals), frozenset(cased), digit, anywhere, window)


_DIGITS = [(C.CATEGORY, C.CATEGORY_DIGIT)]


def _needs_digit(items: Any) -> bool:
    """Whether every match of `items` holds a decimal digit (what `\\d` matches)."""
    for op, av in items:
        if op is C.IN and av == _DIGITS:
            return True
        if op is C.SUBPATTERN and _needs_digit(av[3]):
            return True
        if op is C.ATOMIC_GROUP and _needs_digit(av):
            return True
        if op in REPEATS and av[0] >= 1 and _needs_digit(av[2]):
            return True
        if op is C.BRANCH and all(_needs_digit(b) for b in av[1]):
            return True
    return False


_SPACES = [(C.IN, [(C.CATEGORY, C.CATEGORY_SPACE)])]


def _end_width(state: Any, items: list[Any]) -> int | None:
    """For a branch `X\\s*$` (or `X$`) whose X is at most W characters long: W. A match of X
    then ends where only whitespace follows (re's \\s is str.isspace, what `str.rstrip` strips),
    so it lies within the last W characters of `text.rstrip()` and what follows it."""
    if not items or items[-1] != (C.AT, C.AT_END):
        return None
    body = items[:-1]
    if body and body[-1][0] in REPEATS and body[-1][1][0] == 0 and list(body[-1][1][2]) == _SPACES:
        body = body[:-1]
    width = _parser.SubPattern(state, body).getwidth()[1]
    return width if width < C.MAXREPEAT else None


def _top_branches(parsed: list[Any]) -> list[list[Any]]:
    """The top-level branches of a parsed pattern, each a list of items. The parser moves what all
    branches start with out in front of them (`^a|^b` is parsed as `^(?:a|b)`): when that is the
    `^` anchor it is put back in each branch (P(A|B) finds what PA|PB finds), so that every branch
    can be read as anchored."""
    if len(parsed) == 1 and parsed[0][0] is C.BRANCH:
        return [list(b) for b in parsed[0][1][1]]
    if parsed and parsed[0] == (C.AT, C.AT_BEGINNING) and parsed[-1][0] is C.BRANCH:
        return [[*parsed[:-1], *b] for b in parsed[-1][1][1]]
    return [parsed]


def _starts(items: list[Any]) -> frozenset[str] | None:
    """Non-empty literals one of which every match of `items` starts with (`_DIGIT`: a decimal
    digit, what `\\d` matches in a str pattern: `str.isdecimal`), or None."""
    run: list[str] = []
    for k, (op, av) in enumerate(items):
        if op is C.LITERAL:
            run.append(chr(av))
            continue
        if run:
            break
        if op is C.IN and av == _DIGITS:
            return frozenset({_DIGIT})
        if op in (C.ASSERT, C.ASSERT_NOT):
            continue  # zero-width: the match still starts with what follows
        if op is C.SUBPATTERN:
            return None if av[1] or av[2] else _starts(list(av[3]))
        if op is C.ATOMIC_GROUP:
            return _starts(list(av))
        if op is C.BRANCH:
            parts = [_starts(list(b)) for b in av[1]]
            return None if any(p is None for p in parts) else frozenset().union(*parts)
        if op in REPEATS:
            first = _starts(list(av[2]))
            if av[0] >= 1 or first is None:
                return first
            rest = _starts(items[k + 1:])  # optional: the text starts with it or with what follows
            return None if rest is None else first | rest
        return None
    return frozenset({"".join(run)}) if run else None


def _trie_pattern(words: list[str]) -> str:
    """An alternation of `words` that, where several of them start at one place, matches the
    longest (they are then prefixes of one another): a trie, each branch its own first character."""
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:
            return ("(?:" + body + ")?") if len(alts) == 1 else body + "?"
        return body
    return emit(trie)


class Prefixes:
    """Which of several rules (by position) a folded text may match, from its start."""

    def __init__(self, prefixes: Sequence[tuple[int, frozenset[str]]]) -> None:
        """`prefixes`: (rule position, its folded prefixes) for each rule."""
        by_text: dict[str, set[int]] = {}
        for pos, words in prefixes:
            for word in words:
                by_text.setdefault(word, set()).add(pos)
        self._trie = re.compile(_trie_pattern(sorted(by_text)))
        # Found prefix -> rules of every prefix that is a prefix of it (all match there too).
        # Looked up prefix by prefix: comparing every pair cost 16 ms per matcher.
        self._rules = {key: frozenset().union(*(by_text[key[:i]] for i in range(1, len(key) + 1)
                                                if key[:i] in by_text))
                       for key in by_text}

    def at_start(self, folded: str) -> frozenset[int]:
        """Positions of the rules one of whose prefixes `folded` (a folded text) starts with: the
        trie matches the longest there, and its rules include those of its prefixes."""
        m = self._trie.match(folded)
        return self._rules[m.group()] if m is not None else frozenset()
