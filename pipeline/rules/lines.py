r"""First-match of the line rules over a document's paragraphs, at the cost of the rules that can
match: `Rule.matches` for every rule and every paragraph is the same answer, slower.

Most line rules only look at short lines (`max_words`), so for a paragraph of n words only the
rules whose limit is at least n are in its group, built once per word count. An exact rule
cannot match a paragraph of n words if its longest line is shorter than 2n - 1 characters.
Within a group a rule is tried only if a cheap test says it may match (`prefilter.needs_of`):
the exact key is one of its lines; the folded paragraph starts with one of its prefixes (most
rules are anchored with `^`: one trie match at the start answers for all of them) or, for a
`^\d` branch, with a decimal digit; it holds a digit anywhere (dates and times); one of its
literals occurs anywhere (for a rule limited to the last paragraphs only there); one of its
case-sensitive literals occurs (near the end, for a branch that ends with `$`). Rules none of
these describe are always tried. The candidates are tried in file order, the first match wins.

For a batch, `candidates` first says in Arrow which paragraphs any rule may match at all
(`batchgate`): most match none, and are not looked at in Python.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from pipeline.rules import Rule
from pipeline.rules.batchgate import BatchGate
from pipeline.rules.prefilter import Prefixes, fold, needs_of

_DIGIT = re.compile(r"\d")  # what the rules' \d matches (a str pattern: any decimal digit)


def _word_limit(rule: Rule) -> int | None:
    """The most words a paragraph the rule matches can have (None: no limit)."""
    if rule.match != "exact":
        return rule.max_words
    longest = (max(map(len, rule.exact)) + 1) // 2
    return longest if rule.max_words is None else min(rule.max_words, longest)


def _alternation(literals: frozenset[str]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(literals, key=lambda x: (-len(x), x)))))


@dataclass(frozen=True)
class _Group:
    """The rules tried on paragraphs of one word count, and the cheap tests that rule most out.

    A rule is a candidate for a paragraph if it is in `always`, or its exact key is the
    paragraph's, or it is in `members` and one of its `Needs` holds: a prefix at the start (the
    matcher's one trie, shared by every group), a digit at the start (`digit`) or anywhere
    (`any_digit`), a literal anywhere (`literals`), a case-sensitive literal (`cased`).
    Candidates are then tried in file order. The literals of a rule limited to the last
    paragraphs (`max_from_end`) are looked for only there (`tail`): "leading", "global"
    (`company_boilerplate_v1`) are in many paragraphs, the rule applies to three.
    """

    always: tuple[int, ...]
    exact: dict[str, frozenset[int]]
    members: frozenset[int]
    digit: frozenset[int]  # the members that may match where the text starts with a digit
    any_digit: frozenset[int]  # ... where it holds one
    literals: tuple[tuple[str, frozenset[int]], ...]  # literals anywhere: who needs each
    tail: tuple[tuple[int, tuple[tuple[str, frozenset[int]], ...]], ...]  # (max_from_end, literals)
    # (max_from_end, rule, its cased literals, how far from the end they can be: `Needs.cased_window`)
    cased: tuple[tuple[int, int, re.Pattern[str], int | None], ...]


_ANYWHERE = 1 << 62  # the max_from_end of a rule without one: every paragraph is in position


def _literal_hits(group: _Group, folded: str, to_end: int) -> list[frozenset[int]]:
    """The rules needing each literal of the group that `folded` holds (a tail rule's only where
    the paragraph is `to_end` from the end or nearer). `in` per literal: the paragraphs that get
    here hold one, and a scan for all of them with one `re` alternation cost more (0.40 against
    0.32 s)."""
    hits = [needing for lit, needing in group.literals if lit in folded]
    for limit, lits in group.tail:
        if to_end <= limit:
            hits += [needing for lit, needing in lits if lit in folded]
    return hits


class LineMatcher:
    """The line rules that apply to one kind of document (host, format), in file order."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._limits = [_word_limit(r) for r in self.rules]
        needs = [None if r.compiled is None else needs_of(r.compiled) for r in self.rules]
        self._needs = needs
        starts = [(i, n.prefixes) for i, n in enumerate(needs) if n is not None and n.prefixes]
        self._starts = Prefixes(starts) if starts else None
        self._cased = tuple((i, _alternation(n.cased), n.cased_window) for i, n in enumerate(needs)
                            if n is not None and n.cased)
        # Above the largest limit only the rules without one remain: one shared group.
        self._top = max((x for x in self._limits if x is not None), default=0) + 1
        self._by_words: dict[int, _Group] = {}
        self._batch: BatchGate | None = None
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
        always, exact, members = [], {}, set()
        for i in positions:
            rule = self.rules[i]
            if rule.match == "exact":
                for key in rule.exact:
                    exact[key] = exact.get(key, frozenset()) | {i}
            elif rule.compiled is None:
                continue  # not a line rule: matches nothing here, as `Rule.matches`
            elif self._needs[i] is None:
                always.append(i)
            else:
                members.add(i)
        cased = tuple((self._from_end(i), i, rx, window) for i, rx, window in self._cased if i in members)
        by_limit: dict[int, dict[str, set[int]]] = {}
        for i in sorted(members):
            lits = by_limit.setdefault(self._from_end(i), {})
            for lit in self._needs[i].literals:  # type: ignore[union-attr]
                lits.setdefault(lit, set()).add(i)

        def table(lits: dict[str, set[int]]) -> tuple[tuple[str, frozenset[int]], ...]:
            return tuple((lit, frozenset(ps)) for lit, ps in sorted(lits.items()))
        tail = tuple((limit, table(lits)) for limit, lits in sorted(by_limit.items())
                     if limit != _ANYWHERE and lits)
        digit = frozenset(i for i in members if self._needs[i].digit_start)  # type: ignore[union-attr]
        any_digit = frozenset(i for i in members if self._needs[i].digit_anywhere)  # type: ignore[union-attr]
        return _Group(tuple(always), exact, frozenset(members), digit, any_digit,
                      table(by_limit.get(_ANYWHERE, {})), tail, cased)

    def _from_end(self, i: int) -> int:
        limit = self.rules[i].max_from_end
        return _ANYWHERE if limit is None else limit

    def candidates(self, texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Per paragraph of a batch, whether some rule may match it (False: `first_match` is None
        wherever it is in its document)."""
        if self._batch is None:
            self._batch = BatchGate(self.rules, self._limits)  # on first use: tens of milliseconds
        return self._batch.candidates(texts)

    def first_match(self, text: str, index: int, count: int) -> Rule | None:
        """The first rule matching paragraph `index` of `count` (as `in_position` and `matches`)."""
        words = text.split()
        group = self._group(len(words))
        found = set(group.always)
        if group.exact:
            # `exact_key(text)`, from the words already split.
            found.update(group.exact.get(" ".join(words).casefold(), ()))
        if group.members:
            folded = fold(text)
            to_end = count - index
            if self._starts is not None and (starts := self._starts.at_start(folded)):
                found.update(starts & group.members)
            if group.digit and text[:1].isdecimal():  # `^\d`: re's \d is str.isdecimal
                found.update(group.digit)
            if group.any_digit and _DIGIT.search(text) is not None:
                found.update(group.any_digit)
            found.update(*_literal_hits(group, folded, to_end))
            for limit, pos, literals, window in group.cased:
                if to_end <= limit and pos not in found:
                    start = 0 if window is None else max(0, len(text.rstrip()) - window)
                    if literals.search(text, start) is not None:
                        found.add(pos)
        if not found:
            return None
        for pos in sorted(found):
            rule = self.rules[pos]
            if rule.max_from_end is not None and count - index > rule.max_from_end:
                continue
            if rule.match == "exact" or rule.compiled.search(text) is not None:
                return rule
        return None

    def marks(self, paras: Sequence[str], candidates: Sequence[bool] | None = None) -> list[Rule | None]:
        """The first matching rule of each paragraph of a document; `candidates`: the paragraphs'
        `candidates`, when the caller computed them for a batch."""
        n = len(paras)
        if candidates is None:
            return [self.first_match(text, i, n) for i, text in enumerate(paras)]
        if len(candidates) != n:
            raise ValueError(f"{len(candidates)} candidate flags for {n} paragraphs")
        return self.marks_at(paras, np.flatnonzero(candidates).tolist())

    def marks_at(self, paras: Sequence[str], candidates: Sequence[int]) -> list[Rule | None]:
        """`marks`, given the positions of the candidates (ascending) instead of a flag each."""
        n = len(paras)
        marks: list[Rule | None] = [None] * n
        for i in candidates:
            marks[i] = self.first_match(paras[i], i, n)
        return marks
