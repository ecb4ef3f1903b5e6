"""Which line rules can possibly match a paragraph, from one scan for the literals they require.

Most regex rules cannot match unless some literal occurs in the paragraph (`affiliate_disclosure_v1`
needs "independently", "affiliate", ... ). `required_literals` reads that set off the parsed
pattern; `Prefilter` compiles the literals of a group of rules into one alternation, longest
first, tried at every position of the paragraph (a lookahead, so overlapping literals are not
hidden), and answers with the rules whose literal occurred. Rules without such a set always run.

Exactness: the scan uses the rule's own case flag, so it finds every place a rule's literal
matches. Where the text found is ASCII, the literals that match at that position are exactly
those whose lower case is a prefix of the found text's (a longer one would have been found
first), which a dict answers; elsewhere (Unicode case folding: "ſ" matches "s") every rule of
the group runs, as before the prefilter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from re import _constants as C  # the parser's opcodes, as in pipeline/rules/safety.py
from re import _parser
from re._casefix import _EXTRA_CASES  # type: ignore[import-not-found]
from typing import Any

_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT}
# Flags under which the scan below finds what the rule finds; any other (ASCII, VERBOSE...) and
# the rule is not filtered.
_PLAIN_FLAGS = re.IGNORECASE | re.UNICODE
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
    if op in _REPEATS:
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


# str.translate looks every character up in a dict: search for the few that need it first.
_HAS_BEFORE = re.compile("[" + "".join(map(chr, _BEFORE)) + "]")
_HAS_CANON = re.compile("[" + re.escape("".join(map(chr, _CANON))) + "]")


def fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    low = (text.translate(_BEFORE) if _HAS_BEFORE.search(text) else text).lower()
    return low.translate(_CANON) if _HAS_CANON.search(low) else low


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Folded literals one of which occurs in the folded form of every text `pattern` finds, or
    None when none is known (or all are too short to be worth a scan)."""
    if pattern.flags & ~_PLAIN_FLAGS:
        return None
    lits = _sequence(_parser.parse(pattern.pattern, pattern.flags))
    if not lits:
        return None
    lits = frozenset(fold(x) for x in lits)
    if min(map(len, lits)) < _MIN_LEN:
        return None
    # A literal that contains another is redundant: wherever it occurs, so does the shorter one.
    return frozenset(x for x in lits if not any(y != x and y in x for y in lits))


@dataclass(frozen=True)
class Needs:
    """What a text must hold for a rule to find anything in it, from one of its top-level
    branches: one of `prefixes` at its start (folded: the branch is anchored with `^`), one of
    `literals` anywhere (folded), or one of `cased` anywhere as written (a case-sensitive branch
    whose literals are too short to scan for folded: "AP" is in "happen", not in its case)."""

    prefixes: frozenset[str] = frozenset()
    literals: frozenset[str] = frozenset()
    cased: frozenset[str] = frozenset()


def needs_of(pattern: re.Pattern[str]) -> Needs | None:
    """The `Needs` of a rule's pattern, or None when one of its branches needs nothing known."""
    if pattern.flags & ~_PLAIN_FLAGS:
        return None
    parsed = list(_parser.parse(pattern.pattern, pattern.flags))
    branches = parsed[0][1][1] if len(parsed) == 1 and parsed[0][0] is C.BRANCH else [parsed]
    prefixes: set[str] = set()
    literals: set[str] = set()
    cased: set[str] = set()
    for branch in branches:
        items = list(branch)
        starts = _starts(items[1:]) if items and items[0] == (C.AT, C.AT_BEGINNING) else None
        lits = _sequence(branch)
        if starts:
            prefixes |= {fold(x) for x in starts}
        elif lits and min(map(len, lits)) >= _MIN_LEN:
            literals |= {fold(x) for x in lits}
        elif lits and not pattern.flags & re.IGNORECASE and min(map(len, lits)) >= 2:
            cased |= lits
        else:
            return None
    return Needs(frozenset(prefixes), frozenset(literals), frozenset(cased))


def _starts(items: list[Any]) -> frozenset[str] | None:
    """Non-empty literals one of which every match of `items` starts with, or None."""
    run: list[str] = []
    for k, (op, av) in enumerate(items):
        if op is C.LITERAL:
            run.append(chr(av))
            continue
        if run:
            break
        if op in (C.ASSERT, C.ASSERT_NOT):
            continue  # zero-width: the match still starts with what follows
        if op is C.SUBPATTERN:
            return None if av[1] or av[2] else _starts(list(av[3]))
        if op is C.ATOMIC_GROUP:
            return _starts(list(av))
        if op is C.BRANCH:
            parts = [_starts(list(b)) for b in av[1]]
            return None if any(p is None for p in parts) else frozenset().union(*parts)
        if op in _REPEATS:
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


class Prefilter:
    """One scan for the literals of several rules (given by position in a group)."""

    def __init__(self, literals: Sequence[tuple[int, frozenset[str]]]) -> None:
        """`literals`: (rule position, its folded literals) for each filtered rule."""
        self.positions = frozenset(pos for pos, _ in literals)
        by_text: dict[str, set[int]] = {}
        for pos, lits in literals:
            for lit in lits:
                by_text.setdefault(lit, set()).add(pos)
        self._scan = re.compile(_trie_pattern(sorted(by_text)))
        # Found literal -> rules of every literal that is a prefix of it (all match there too).
        # Looked up prefix by prefix: comparing every pair of literals cost 16 ms per group.
        self._rules = {key: frozenset().union(*(by_text[key[:i]] for i in range(1, len(key) + 1)
                                                if key[:i] in by_text))
                       for key in by_text}

    def hits(self, text: str) -> frozenset[int] | set[int]:
        """Positions of the filtered rules that may match `text`."""
        return self.scan(fold(text))

    def at_start(self, folded: str) -> frozenset[int]:
        """Positions of the rules one of whose literals `folded` (a folded text) starts with: the
        scan's trie finds the longest there, and its rules include those of its prefixes."""
        m = self._scan.match(folded)
        return self._rules[m.group()] if m is not None else frozenset()

    def scan(self, folded: str) -> frozenset[int] | set[int]:
        """`hits` of a text already folded."""
        found: set[int] = set()
        search = self._scan.search
        m = search(folded)
        while m is not None:
            found |= self._rules[m.group()]
            # From the next character, not the match's end: literals may overlap.
            m = search(folded, m.start() + 1)
        return found
