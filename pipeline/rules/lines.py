"""First-match of the line rules over a document's paragraphs, at the cost of the rules that can
match: `Rule.matches` for every rule and every paragraph is the same answer, slower.

Most line rules only look at short lines (`max_words`), so for a paragraph of n words only the
rules whose limit is at least n are tried, in file order; those lists are built once per word
count. The word count and the exact-match key are computed once per paragraph, not per rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.rules import Rule, exact_key


class LineMatcher:
    """The line rules that apply to one kind of document (host, format), in file order."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        limits = [r.max_words for r in self.rules if r.max_words is not None]
        # Above the largest limit only the rules without one remain: one shared list.
        self._top = max(limits, default=0) + 1
        self._by_words: dict[int, tuple[Rule, ...]] = {}

    def _candidates(self, n_words: int) -> tuple[Rule, ...]:
        n = min(n_words, self._top)
        found = self._by_words.get(n)
        if found is None:
            found = tuple(r for r in self.rules if r.max_words is None or n <= r.max_words)
            self._by_words[n] = found
        return found

    def first_match(self, text: str, index: int, count: int) -> Rule | None:
        """The first rule matching paragraph `index` of `count` (as `in_position` and `matches`)."""
        n_words = len(text.split())
        folded: str | None = None
        for rule in self._candidates(n_words):
            if rule.max_from_end is not None and count - index > rule.max_from_end:
                continue
            if rule.match == "exact":
                if folded is None:
                    folded = exact_key(text)
                if folded in rule.exact:
                    return rule
            elif rule.compiled is not None and rule.compiled.search(text) is not None:
                return rule
        return None

    def marks(self, paras: Sequence[str]) -> list[Rule | None]:
        n = len(paras)
        return [self.first_match(text, i, n) for i, text in enumerate(paras)]
