"""The two benchmarks' own metrics, written from their descriptions in shared/data/README.md.

scrapinghub: token 4-gram shingles (`\\w+` tokens); per page TP/FP/FN over shingle multisets;
precision and recall averaged over pages (macro); F1 = harmonic mean of the two means.
WCXB: bag of lowercased `\\w+` words; per page P, R, F1 from the multiset overlap, each averaged.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    pages: int


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float]:
    # An empty prediction of a non-empty gold has no precision to speak of: count it as 0.
    precision = tp / (tp + fp) if tp + fp else (1.0 if fn == 0 else 0.0)
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def _overlap(gold: Counter, pred: Counter) -> tuple[int, int, int]:
    tp = sum((gold & pred).values())
    return tp, sum(pred.values()) - tp, sum(gold.values()) - tp


def shingles(text: str, n: int = 4) -> Counter:
    toks = _TOKEN.findall(text or "")
    return Counter(" ".join(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1)) if toks)


def words(text: str) -> Counter:
    return Counter(_TOKEN.findall((text or "").lower()))


def scrapinghub(pairs: Iterable[tuple[str, str]]) -> Score:
    """pairs: (gold articleBody, predicted text) per page."""
    ps, rs = [], []
    for gold, pred in pairs:
        p, r = _prf(*_overlap(shingles(gold), shingles(pred)))
        ps.append(p)
        rs.append(r)
    mp, mr = sum(ps) / len(ps), sum(rs) / len(rs)
    return Score(mp, mr, 2 * mp * mr / (mp + mr) if mp + mr else 0.0, len(ps))


def wcxb(pairs: Iterable[tuple[str, str]]) -> Score:
    """pairs: (gold main_content, predicted text) per page."""
    ps, rs, fs = [], [], []
    for gold, pred in pairs:
        p, r = _prf(*_overlap(words(gold), words(pred)))
        ps.append(p)
        rs.append(r)
        fs.append(2 * p * r / (p + r) if p + r else 0.0)
    n = len(ps)
    return Score(sum(ps) / n, sum(rs) / n, sum(fs) / n, n)


def _norm(text: str) -> str:
    return " ".join(_TOKEN.findall((text or "").lower()))


def snippet_rates(items: Iterable[tuple[list[str], list[str], str]]) -> tuple[float, float]:
    """WCXB snippets: share of `with` snippets found, share of `without` snippets wrongly present."""
    found = with_n = leaked = without_n = 0
    for with_, without, pred in items:
        text = _norm(pred)
        found += sum(1 for s in with_ if _norm(s) in text)
        with_n += len(with_)
        leaked += sum(1 for s in without if _norm(s) and f" {_norm(s)} " in f" {text} ")
        without_n += len(without)
    return found / max(with_n, 1), leaked / max(without_n, 1)
