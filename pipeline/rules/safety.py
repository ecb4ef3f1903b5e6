"""Rule patterns that could hang a run: a static check at load time, and adversarial probes.

Python's `re` backtracks. A pattern in which one stretch of text can be matched in many ways,
such as `(\\w+\\s?)+$` (a repeat inside an unbounded repeat) or `(ab|\\w\\w)+` (an unbounded repeat
over alternatives that start alike), takes exponential time on a line that almost matches, and a
scraped paragraph can be a megabyte long. `static_problems` finds those two shapes in the parsed
pattern so that `load_rules` refuses the file. Polynomial blow-ups (`\\s*\\s*\\s*x`) escape a static
check of this size, so `adversarial_inputs` builds long near-miss strings from a pattern's own
characters and words for a probe under a time limit (the rule tests run every shipped pattern).
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Iterator
from re import _constants as C  # the parser's opcodes (private, but stable across 3.11-3.13)
from typing import Any

from pipeline.rules.parsed import parse as parse_pattern

_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT}  # possessive repeats never backtrack into themselves
_UNBOUNDED = C.MAXREPEAT
# Characters against which first-character sets of alternatives are compared.
_SAMPLE = string.printable + "éüßçñ€£©«»“”‘’–—…\u00a0\u3000字"


def _children(op: Any, av: Any) -> list[Any]:
    if op in _REPEATS or op is C.POSSESSIVE_REPEAT:
        return [av[2]]
    if op is C.SUBPATTERN:
        return [av[3]]
    if op is C.BRANCH:
        return list(av[1])
    if op in (C.ASSERT, C.ASSERT_NOT):
        return [av[1]]
    if op is C.ATOMIC_GROUP:
        return [av]
    if op is C.GROUPREF_EXISTS:
        return [av[1]] + ([av[2]] if av[2] is not None else [])
    return []


def _nodes(sub: Any, into_atomic: bool = True) -> Iterator[tuple[Any, Any]]:
    """Every node under `sub`; `into_atomic=False` skips what an atomic group or possessive
    repeat encloses (the matcher never backtracks into those)."""
    for op, av in sub:
        yield op, av
        if not into_atomic and op in (C.ATOMIC_GROUP, C.POSSESSIVE_REPEAT):
            continue
        for child in _children(op, av):
            yield from _nodes(child, into_atomic)


_CATEGORIES = {C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_SPACE: r"\s",
               C.CATEGORY_NOT_SPACE: r"\S", C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W"}


def _in_class(items: list[tuple[Any, Any]], ch: str, fold: bool) -> bool:
    """Whether one character is in a parsed character class `[...]`."""
    negate, hit = False, False
    for op, av in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            hit |= ch == chr(av) or (fold and ch.casefold() == chr(av).casefold())
        elif op is C.RANGE:
            hit |= av[0] <= ord(ch) <= av[1] or (fold and any(
                av[0] <= ord(c) <= av[1] for c in (ch.lower(), ch.upper()) if len(c) == 1))
        elif op is C.CATEGORY:
            hit |= re.fullmatch(_CATEGORIES.get(av, "."), ch) is not None
        else:
            hit = True  # something this check does not model: assume it matches
    return hit != negate


def _one_char(op: Any, av: Any, flags: int) -> set[str] | None:
    """The sample characters a single-character node matches, or None if it is not one."""
    fold = bool(flags & re.IGNORECASE)
    if op is C.LITERAL:
        return {c for c in _SAMPLE if c == chr(av) or (fold and c.casefold() == chr(av).casefold())}
    if op is C.NOT_LITERAL:
        return {c for c in _SAMPLE if c != chr(av)}
    if op is C.ANY:
        return set(_SAMPLE) - {"\n"}
    if op is C.IN:
        return {c for c in _SAMPLE if _in_class(av, c, fold)}
    return None


def _first_chars(sub: Any, flags: int) -> set[str]:
    """Sample characters that can start a match of `sub` (an over-approximation; all if unsure)."""
    for op, av in sub:
        if op is C.AT or op in (C.ASSERT, C.ASSERT_NOT):
            continue  # zero-width: look at what follows
        chars = _one_char(op, av, flags)
        if chars is not None:
            return chars
        if op is C.SUBPATTERN:
            return _first_chars(av[3], flags)
        if op is C.BRANCH:
            return set().union(*(_first_chars(b, flags) for b in av[1]))
        if op in _REPEATS and av[0] >= 1:
            return _first_chars(av[2], flags)
        return set(_SAMPLE)  # an optional or exotic start: assume anything
    return set(_SAMPLE)


def static_problems(pattern: str, flags: int = 0) -> list[str]:
    """Shapes in `pattern` that backtrack exponentially; empty when none is found."""
    tree = parse_pattern(pattern, flags)
    problems: list[str] = []
    for op, av in _nodes(tree):
        if op not in _REPEATS or av[1] != _UNBOUNDED:
            continue
        body = av[2]
        inner = [a for o, a in _nodes(body, into_atomic=False) if o in _REPEATS and a[1] > 1]
        if inner:
            problems.append("nested quantifier: a repeated part inside an unbounded repeat "
                            "(like (\\w+\\s?)+) can match one text in exponentially many ways")
            continue
        alternations = [a[1] for o, a in _nodes(body, into_atomic=False) if o is C.BRANCH]
        if any(_overlap(branches, flags | tree.state.flags) for branches in alternations):
            problems.append("unbounded repeat over alternatives that can start with the same "
                            "character (like (ab|\\w\\w)+): make the alternatives exclusive")
    return sorted(set(problems))


def _overlap(branches: list[Any], flags: int) -> bool:
    seen: set[str] = set()
    for b in branches:
        first = _first_chars(b, flags)
        if seen & first:
            return True
        seen |= first
    return False


def adversarial_inputs(pattern: str, size: int = 50_000, examples: tuple[str, ...] = ()) -> list[str]:
    """Long near-miss lines built from the pattern's own characters, words and examples.

    Each is `size` characters or so and ends in a character the pattern is unlikely to want, the
    shape on which a backtracking matcher tries the most ways before it gives up.
    """
    literals = re.findall(r"[A-Za-zÀ-ÿ]{2,}", pattern)
    chars = sorted({c for c in pattern if c.isprintable()} | set(" a1.:-\t"))
    out = [c * size + "\x00!" for c in chars]
    out += [(w + " ") * (size // (len(w) + 1)) + "\x00" for w in sorted(set(literals))[:40]]
    out += [(a + b) * (size // 2) + "\x00" for a, b in itertools.pairwise(chars)]
    out += [(ex + " ") * max(1, size // (len(ex) + 1)) + "\x00" for ex in examples if ex]
    return out


def search_all(pattern: str, flags: int, inputs: list[str]) -> int:
    """Search every input (the probe's body, run under a time limit); the number that matched."""
    compiled = re.compile(pattern, flags)
    return sum(compiled.search(s) is not None for s in inputs)
