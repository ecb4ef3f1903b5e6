r"""A line rule as an RE2 pattern that finds something in every paragraph the rule matches (and
maybe in a few more), for Arrow to run over a whole batch at once (`match_substring_regex`), so
that the rules are tried in Python only where it found something.

The RE2 patterns run over an ASCII view of the paragraphs (`ascii_view`): each non-ASCII character
becomes one byte naming its kind (`KINDS`: a space, a decimal digit, another letter or digit, one
of the four letters that match an ASCII letter case ignored, one that casefolds to several
characters, anything else). Those kinds decide `\s`, `\d`, `\w` and Python's case folding, so a
Python match has a match in the view, character for character, wherever each pattern node that
may match a non-ASCII character also matches its kind's byte. `superset` rewrites a rule's parsed
pattern (`re._parser`) node by node, never narrowing it:
- a node that matches one character becomes a class: the ASCII characters it matches, found by
  running the node itself on each of the 128 (Python's `\s`, `\w`, `\d` and case folding: RE2's
  differ, and are never used), and the kinds it may match (`_kinds`);
- lookarounds, `\b` and `\B` are dropped: what is left matches more, never less;
- `$` (the end, or before a final newline) is `\n?$` where nothing follows it, dropped elsewhere;
- atomic groups and possessive or lazy repeats are plain greedy ones (the same texts hold a
  match), repeat counts above `_CAP` are unbounded (smaller RE2 programs, a superset again);
- anything else (back references, scoped flags, flags other than IGNORECASE) gives None: no gate.
An exact rule's gate (`exact_superset`) is its keys between runs of whitespace, letters in either
case: casefolding maps every character to one but those of kind MULTI ("ß" to "ss", "ﬁ" to
"fi"), whose paragraphs `LineMatcher` takes as candidates of every exact rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from re import _compiler, _parser
from re import _constants as C  # the parser's opcodes, as in pipeline/rules/prefilter.py
from typing import Any

from pipeline.rules.asciiview import CASED, DIGIT, KINDS, MULTI, OTHER, SPACE, WORD, kind
from pipeline.rules.parsed import parse as parse_pattern
from pipeline.rules.prefilter import PLAIN_FLAGS, REPEATS

_CAP = 8  # repeat counts above this are unbounded in the gate
# What Python's str.split() and `\s` take for whitespace among ASCII characters (with \v, \x1c-\x1f).
ASCII_SPACE = frozenset(c for c in range(128) if chr(c).isspace())
_DROPPED_AT = {C.AT_BOUNDARY, C.AT_NON_BOUNDARY, C.AT_UNI_BOUNDARY, C.AT_UNI_NON_BOUNDARY}


# Kinds a category of `\s`, `\d`, `\w` (or their negations) holds; MULTI: any (not modelled).
_CATEGORY_KINDS = {
    C.CATEGORY_SPACE: {SPACE}, C.CATEGORY_NOT_SPACE: KINDS - {SPACE},
    C.CATEGORY_DIGIT: {DIGIT}, C.CATEGORY_NOT_DIGIT: KINDS - {DIGIT},
    C.CATEGORY_WORD: {DIGIT, WORD, CASED, MULTI}, C.CATEGORY_NOT_WORD: {SPACE, OTHER, MULTI},
}


class _Untranslatable(Exception):
    pass


def superset(pattern: re.Pattern[str]) -> str | None:
    """An RE2 pattern that matches the `ascii_view` of every text `pattern.search` finds
    something in, or None."""
    if pattern.flags & ~PLAIN_FLAGS:
        return None
    parsed = parse_pattern(pattern.pattern, pattern.flags)
    try:
        return _sequence(list(parsed), pattern.flags, final=True)
    except _Untranslatable:
        return None


def scans(pattern: re.Pattern[str]) -> bool:
    """Whether some match of the pattern may start with a run of more than `_CAP` characters
    that crosses words (`^.{0,200}contributed`, not `^\\s*` nor `^\\w+`): RE2 then reads
    most of every text, anchored or not (for `batchgate`'s grouping; a matter of speed only)."""
    return _leads_with_run(list(parse_pattern(pattern.pattern, pattern.flags)), pattern.flags)


def _crosses_words(body: list[Any], flags: int) -> bool:
    """Whether a repeated body may match both a space and a letter (`.`, `[^.!?]`), or is more
    than one character."""
    if len(body) != 1 or body[0][0] not in (C.LITERAL, C.NOT_LITERAL, C.IN, C.ANY):
        return True
    node = _compiler.compile(_parser.SubPattern(_parser.State(), body), flags)
    return bool(node.fullmatch(" ")) and bool(node.fullmatch("a"))


def _leads_with_run(items: list[Any], flags: int) -> bool:
    if not items:
        return False
    (op, av), rest = items[0], items[1:]
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return _leads_with_run(rest, flags)
    if op is C.SUBPATTERN:
        return _leads_with_run([*av[3], *rest], flags)
    if op is C.ATOMIC_GROUP:
        return _leads_with_run([*av, *rest], flags)
    if op is C.BRANCH:
        return any(_leads_with_run([*b, *rest], flags) for b in av[1])
    if op in REPEATS:
        body = list(av[2])
        return ((av[1] > _CAP and _crosses_words(body, flags)) or _leads_with_run(body, flags)
                or (av[0] == 0 and _leads_with_run(rest, flags)))
    return False


def exact_superset(keys: Iterable[str]) -> str:
    """An RE2 pattern that matches the `ascii_view` of every text without MULTI characters
    whose `exact_key` is one of `keys`."""
    space = _class(ASCII_SPACE, {SPACE})
    alts = []
    for key in sorted(set(keys)):
        words = ["".join(_key_char(c) for c in word) for word in key.split(" ")]
        alts.append(f"{space}+".join(words))
    return f"^{space}*(?:{'|'.join(alts)}){space}*$"


def _key_char(c: str) -> str:
    """What a character of a (casefolded) key is in the view of a text with that key: an ASCII
    letter either case, or a CASED letter ("ſ" casefolds to "s"); other ASCII characters only
    themselves; a non-ASCII character any kind but a space."""
    if not c.isascii():
        return _class((), KINDS - {SPACE})
    if c.isalpha():
        return _class({ord(c.lower()), ord(c.upper())}, {CASED} if c in "iks" else ())
    return _class({ord(c)}, ())


def word_limit(n: int) -> str:
    """An RE2 pattern that matches the view of every text of at most `n` words (str.split): a
    non-ASCII space is taken for a letter (a real control character may be a kind's byte)."""
    space = _class(ASCII_SPACE, ())
    word = "[^" + space[1:]
    return f"^{space}*(?:{word}+(?:{space}+{word}+){{0,{n - 1}}})?{space}*$" if n > 0 else f"^{space}*$"


def _escape(code: int) -> str:
    if code < 128 and chr(code).isalnum():
        return chr(code)
    return f"\\x{code:02x}"


def _class(chars: Iterable[int], kinds: Iterable[int]) -> str:
    """A class of the ASCII characters `chars` and the bytes of `kinds` (or one no byte is in)."""
    codes = sorted(set(chars) | set(kinds))
    if not codes:
        return "[^\\x00-\\x7f]"  # the view is ASCII
    if len(codes) == 1:
        return _escape(codes[0])
    runs: list[list[int]] = []
    for c in codes:
        if runs and c == runs[-1][1] + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return "[" + "".join(_escape(lo) if lo == hi else f"{_escape(lo)}-{_escape(hi)}" for lo, hi in runs) + "]"


def _sequence(items: list[Any], flags: int, final: bool) -> str:
    """`final`: nothing follows these items in a match (a `$` among them may end the text)."""
    last = len(items) - 1
    return "".join(_item(op, av, flags, final and k == last) for k, (op, av) in enumerate(items))


def _item(op: Any, av: Any, flags: int, final: bool) -> str:
    if op in (C.LITERAL, C.NOT_LITERAL, C.IN, C.ANY):
        return _char(op, _hashable(av), flags)
    if op is C.SUBPATTERN:
        if av[1] or av[2]:
            raise _Untranslatable("scoped flags")
        return f"(?:{_sequence(list(av[3]), flags, final)})"
    if op is C.ATOMIC_GROUP:
        return f"(?:{_sequence(list(av), flags, final)})"
    if op is C.BRANCH:
        return "(?:" + "|".join(_sequence(list(b), flags, final) for b in av[1]) + ")"
    if op in REPEATS:
        return f"(?:{_sequence(list(av[2]), flags, False)}){_count(av[0], av[1])}"
    if op is C.AT:
        return _at(av, final)
    if op in (C.ASSERT, C.ASSERT_NOT):
        return ""
    raise _Untranslatable(str(op))


def _at(code: Any, final: bool) -> str:
    if code in (C.AT_BEGINNING, C.AT_BEGINNING_STRING):
        return "^"
    if code is C.AT_END:
        return r"(?:\n?$)" if final else ""
    if code is C.AT_END_STRING:
        return "$" if final else ""
    if code in _DROPPED_AT:
        return ""
    raise _Untranslatable(str(code))


def _count(lo: int, hi: int) -> str:
    lo = min(lo, _CAP)
    if hi == C.MAXREPEAT or hi > _CAP:
        return {0: "*", 1: "+"}.get(lo, f"{{{lo},}}")
    if (lo, hi) == (0, 1):
        return "?"
    return f"{{{lo}}}" if lo == hi else f"{{{lo},{hi}}}"


def _hashable(av: Any) -> Any:
    return tuple(_hashable(x) for x in av) if isinstance(av, list | tuple) else av


@lru_cache(maxsize=4096)
def _char(op: Any, av: Any, flags: int) -> str:
    """The class of a one-character node: its ASCII characters, found by running it on each,
    and the kinds of non-ASCII characters it may match."""
    items = [tuple(x) for x in av] if op is C.IN else av
    node = _compiler.compile(_parser.SubPattern(_parser.State(), [(op, items)]), flags)
    ascii_set = {c for c in range(128) if node.fullmatch(chr(c))}
    return _class(ascii_set, _kinds(op, av, bool(flags & re.IGNORECASE)))


def _kinds(op: Any, av: Any, caseless: bool) -> set[int]:
    """The kinds of the non-ASCII characters a one-character node may match (a superset)."""
    if op is C.LITERAL:
        return _literal_kinds(av, caseless)
    if op is not C.IN:
        return set(KINDS)  # ANY, NOT_LITERAL
    negate = bool(av) and av[0][0] is C.NEGATE
    found: set[int] = set()
    covered: set[int] = set()  # kinds every character of which the class lists
    for kind_op, x in av[1:] if negate else av:
        if kind_op is C.LITERAL:
            found |= _literal_kinds(x, caseless)
        elif kind_op is C.RANGE:
            found |= set(KINDS) if x[1] >= 128 else set().union(
                *(_literal_kinds(c, caseless) for c in range(x[0], x[1] + 1)))
        elif kind_op is C.CATEGORY and x in _CATEGORY_KINDS:
            found |= _CATEGORY_KINDS[x]
            covered |= _CATEGORY_KINDS[x] - {MULTI}
        else:
            found |= set(KINDS)
    return set(KINDS) - covered if negate else found


def _literal_kinds(code: int, caseless: bool) -> set[int]:
    if code < 128:
        return {CASED, MULTI} if caseless and chr(code).lower() in "iks" else set()  # "İ" is MULTI
    if caseless:
        return {kind(chr(code)), WORD, CASED, MULTI}  # its case partners are letters
    return {kind(chr(code))}
