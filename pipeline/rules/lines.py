"""First-match of the line rules over a document's paragraphs, at the cost of the rules that can
match: `Rule.matches` for every rule and every paragraph is the same answer, slower.

Most line rules only look at short lines (`max_words`), so for a paragraph of n words only the
rules whose limit is at least n are in its group, built once per word count. An exact rule
cannot match a paragraph of n words if its longest line is shorter than 2n - 1 characters.
Within a group a rule is tried only if a cheap test says it may match (`prefilter.needs_of`):
the exact key is one of its lines; the folded paragraph starts with one of its prefixes (most
rules are anchored with `^`: one trie match at the start answers for all of them); one of its
literals occurs anywhere (one scan); one of its case-sensitive literals occurs. Rules none of
these describe are always tried. The candidates are tried in file order, the first match wins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.rules import Rule, exact_key
from pipeline.rules.prefilter import Prefilter, fold, needs_of


def _word_limit(rule: Rule) -> int | None:
    """The most words a paragraph the rule matches can have (None: no limit)."""
    if rule.match != "exact":
        return rule.max_words
    longest = (max(map(len, rule.exact)) + 1) // 2
    return longest if rule.max_words is None else min(rule.max_words, longest)


@dataclass(frozen=True)
class _Group:
    """The rules tried on paragraphs of one word count, and the cheap tests that rule most out.

    A rule is a candidate for a paragraph if it is in `always`, or its exact key is the
    paragraph's, or one of its `Needs` holds: a prefix at the start (`starts`), a literal anywhere
    (`anywhere`), a case-sensitive literal (`cased`). Candidates are then tried in file order.
    """

    always: frozenset[int]
    exact: dict[str, frozenset[int]]
    starts: Prefilter | None
    anywhere: Prefilter | None
    cased: tuple[tuple[int, re.Pattern[str]], ...]  # a rule's case-sensitive literals, one search


class LineMatcher:
    """The line rules that apply to one kind of document (host, format), in file order."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._limits = [_word_limit(r) for r in self.rules]
        self._needs = [None if r.compiled is None else needs_of(r.compiled) for r in self.rules]
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
        always, exact, starts, anywhere, cased = set(), {}, [], [], []
        for i in positions:
            rule, needs = self.rules[i], self._needs[i]
            if rule.match == "exact":
                for key in rule.exact:
                    exact[key] = exact.get(key, frozenset()) | {i}
            elif rule.compiled is None:
                continue  # not a line rule: matches nothing here, as `Rule.matches`
            elif needs is None:
                always.add(i)
            else:
                if needs.prefixes:
                    starts.append((i, needs.prefixes))
                if needs.literals:
                    anywhere.append((i, needs.literals))
                if needs.cased:
                    alternation = "|".join(map(re.escape, sorted(needs.cased, key=lambda x: (-len(x), x))))
                    cased.append((i, re.compile(alternation)))
        return _Group(frozenset(always), exact, Prefilter(starts) if starts else None,
                      Prefilter(anywhere) if anywhere else None, tuple(cased))

    def first_match(self, text: str, index: int, count: int) -> Rule | None:
        """The first rule matching paragraph `index` of `count` (as `in_position` and `matches`)."""
        group = self._group(len(text.split()))
        found = set(group.always)
        if group.exact:
            found.update(group.exact.get(exact_key(text), ()))
        if group.starts is not None or group.anywhere is not None:
            folded = fold(text)
            if group.starts is not None:
                found.update(group.starts.at_start(folded))
            if group.anywhere is not None:
                found.update(group.anywhere.scan(folded))
        for pos, literals in group.cased:
            if pos not in found and literals.search(text) is not None:
                found.add(pos)
        for pos in sorted(found):
            rule = self.rules[pos]
            if rule.max_from_end is not None and count - index > rule.max_from_end:
                continue
            if rule.match == "exact" or rule.compiled.search(text) is not None:
                return rule
        return None

    def marks(self, paras: Sequence[str]) -> list[Rule | None]:
        n = len(paras)
        return [self.first_match(text, i, n) for i, text in enumerate(paras)]
