"""Which paragraphs of a batch some line rule may match, decided in Arrow for the whole batch: the
rules are then tried in Python (`LineMatcher.first_match`) on those only, every other paragraph
gets no rule.

Each rule's `re2gate` pattern runs over the batch's `ascii_view`, only on the paragraphs that may
be short enough for it: the rules are put in tiers by their word limit (`TIERS`: a rule of at most
12 words in the tier of 20), one RE2 test per tier finds the paragraphs of at most that many words
(a superset: `re2gate.word_limit`), and the gates of a tier run as a few alternations over those
paragraphs (one alternation of all of them runs out of RE2's DFA memory and is ten times slower).
A rule without a gate takes every paragraph of its tier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.rules import Rule
from pipeline.rules import re2gate as g
from pipeline.rules.asciiview import ascii_view

# Word limits of the tiers (None: every paragraph). Each costs an RE2 pass that stops after that
# many words; of (16, 45), (12, 30), (8, 20), (8, 20, 45), (8, 30), (8, 45) on the text corpus
# (benchmarks/line_rules.py), (8, 20) cost the least.
TIERS: tuple[int | None, ...] = (8, 20, None)
# The gates of a tier joined into alternations of at most this many characters of pattern
# (6,000 to 50,000 tried: 25,000 was the fastest, by a little).
_CHUNK = 25_000


@dataclass(frozen=True)
class _Tier:
    limit: int | None
    patterns: tuple[str, ...]  # alternations of the gates of the tier's rules
    open: bool  # a rule without a gate: every paragraph of the tier is a candidate
    exact: bool  # an exact rule: paragraphs with a MULTI character are candidates


def _tier_of(limit: int | None) -> int | None:
    return next(t for t in TIERS if t is None or (limit is not None and limit <= t))


_END = r"(?:\n?$)"  # what `re2gate` makes of a `$` that ends a pattern


def _chunks(gates: list[tuple[str, bool]]) -> tuple[str, ...]:
    """The gates (each with `re2gate.scans`) as alternations: those anchored at the start that do
    not scan apart (RE2 stops after a few characters), those anchored at the end apart, joined
    before one `$` (RE2 then searches back from the end only), the others apart."""
    starts = [x for x, scan in gates if x.startswith("^") and not scan]
    ends = [x.removesuffix(_END) for x, scan in gates if x.endswith(_END) and x not in starts]
    others = [x for x, _ in gates if x not in starts and not x.endswith(_END)]
    return (*_joined(starts), *(f"(?:{x}){_END}" for x in _joined(ends)), *_joined(others))


def _joined(gates: list[str]) -> list[str]:
    """Alternations of at most `_CHUNK` characters (or one gate)."""
    out: list[list[str]] = []
    for gate in gates:
        if not out or sum(map(len, out[-1])) + len(gate) > _CHUNK:
            out.append([])
        out[-1].append(gate)
    return ["|".join(x) for x in out]


class BatchGate:
    """The candidates of a batch for some line rules (each with its word limit)."""

    def __init__(self, rules: Sequence[Rule], limits: Sequence[int | None]) -> None:
        by_tier: dict[int | None, tuple[list[tuple[str, bool]], list[bool], list[bool]]] = {
            t: ([], [], []) for t in TIERS}
        for rule, limit in zip(rules, limits, strict=True):
            if rule.match != "exact" and rule.compiled is None:
                continue  # not a line rule: matches nothing (`Rule.matches`)
            gate = g.exact_superset(rule.exact) if rule.match == "exact" else g.superset(rule.compiled)
            gates, opened, exact = by_tier[_tier_of(limit)]
            if gate is None:
                opened.append(True)
            else:
                gates.append((gate, rule.match != "exact" and g.scans(rule.compiled)))
            exact.append(rule.match == "exact")
        self._tiers = tuple(_Tier(t, _chunks(gates), any(opened), any(exact))
                            for t, (gates, opened, exact) in by_tier.items() if gates or opened)

    def candidates(self, texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Per text, whether some rule may match it."""
        if isinstance(texts, pa.ChunkedArray):
            texts = texts.combine_chunks()
        view, multi = ascii_view(texts)
        found = np.zeros(len(view), bool)
        rows = np.arange(len(view))
        # From the widest tier to the narrowest: each word test runs on the rows of the last.
        for tier in sorted(self._tiers, key=lambda t: -(1 << 62 if t.limit is None else t.limit)):
            if tier.limit is not None:
                short = _matches(view, g.word_limit(tier.limit))
                at = np.flatnonzero(short)
                rows, view = rows[at], view.take(pa.array(at))
            if tier.open:
                found[rows] = True
                continue
            for pattern in tier.patterns:
                found[rows[_matches(view, pattern)]] = True
            if tier.exact:
                found[rows[multi[rows]]] = True
        return found


def _matches(view: pa.Array, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.match_substring_regex(view, pattern), True).to_numpy(zero_copy_only=False)
