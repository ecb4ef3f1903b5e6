"""First-match of the line rules over a document's paragraphs, at the cost of the rules that can
match: `Rule.matches` for every rule and every paragraph is the same answer, slower.

Most line rules only look at short lines (`max_words`), so for a paragraph of n words only the
rules whose limit is at least n are tried, in file order; those lists are built once per word
count. An exact rule cannot match a paragraph of n words if its longest line is shorter than
2n - 1 characters (n words and the spaces between them). Among the rules left, those that need a
literal (`prefilter.required_literals`) are tried only if one scan of the paragraph found it.
The word count and the exact-match key are computed once per paragraph, not per rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.rules import Rule, exact_key
from pipeline.rules.prefilter import Prefilter, required_literals


def _word_limit(rule: Rule) -> int | None:
    """The most words a paragraph the rule matches can have (None: no limit)."""
    if rule.match != "exact":
        return rule.max_words
    longest = (max(map(len, rule.exact)) + 1) // 2
    return longest if rule.max_words is None else min(rule.max_words, longest)


@dataclass(frozen=True)
class _Group:
    """The rules tried on paragraphs of one word count, and the scan that rules some out."""

    rules: tuple[tuple[int, Rule], ...]
    prefilter: Prefilter | None


class LineMatcher:
    """The line rules that apply to one kind of document (host, format), in file order."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._limits = [_word_limit(r) for r in self.rules]
        self._literals = [None if r.compiled is None else required_literals(r.compiled)
                          for r in self.rules]
        # Above the largest limit only the rules without one remain: one shared group.
        self._top = max((x for x in self._limits if x is not None), default=0) + 1
        self._by_words: dict[int, _Group] = {}
        self._groups: dict[tuple[int, ...], _Group] = {}

    def _group(self, n_words: int) -> _Group:
        n = min(n_words, self._top)
        found = self._by_words.get(n)
        if found is None:
            positions = tuple(i for i, lim in enumerate(self._limits) if lim is None or n <= lim)
            found = self._groups.get(positions)
            if found is None:
                found = self._groups[positions] = self._build(positions)
            self._by_words[n] = found
        return found

    def _build(self, positions: tuple[int, ...]) -> _Group:
        filtered = [(i, lits)
                    for i in positions if (lits := self._literals[i]) is not None]
        # One rule is cheaper to try than to scan for.
        prefilter = Prefilter(filtered) if len(filtered) > 1 else None
        return _Group(tuple((i, self.rules[i]) for i in positions), prefilter)

    def first_match(self, text: str, index: int, count: int) -> Rule | None:
        """The first rule matching paragraph `index` of `count` (as `in_position` and `matches`)."""
        group = self._group(len(text.split()))
        folded: str | None = None
        hits: frozenset[int] | None = None
        for pos, rule in group.rules:
            if rule.max_from_end is not None and count - index > rule.max_from_end:
                continue
            if rule.match == "exact":
                if folded is None:
                    folded = exact_key(text)
                if folded in rule.exact:
                    return rule
                continue
            if group.prefilter is not None and pos in group.prefilter.positions:
                if hits is None:
                    hits = group.prefilter.hits(text)
                if pos not in hits:
                    continue
            if rule.compiled is not None and rule.compiled.search(text) is not None:
                return rule
        return None

    def marks(self, paras: Sequence[str]) -> list[Rule | None]:
        n = len(paras)
        return [self.first_match(text, i, n) for i, text in enumerate(paras)]
