"""Structural heuristics: named functions over a whole document, registered like pattern rules.

Each takes the document's paragraphs, the marks made so far (None = not yet removed) and the
rule's options, and returns the indexes it would remove. They never rewrite text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from pipeline import textutil

_ENUMERATED = re.compile(r"^\s*(\d{1,3}|[a-zA-Z])\s*[.)\]:]\s")

Heuristic = Callable[[Sequence[str], Sequence[object | None], dict[str, Any]], list[int]]


def trailing_teaser_block(paras: Sequence[str], marks: Sequence[object | None],
                          options: dict[str, Any]) -> list[int]:
    """A run of short headline-like lines closing a document is a related-story list.

    Already-marked lines (site UI after the list) are skipped over. The run must not reach the
    first paragraph: a document made only of short lines is not an article with a teaser list.
    """
    min_lines = int(options.get("min_lines", 3))
    max_words = int(options.get("max_words", 20))
    min_words = int(options.get("min_words", 4))
    run: list[int] = []
    for i in range(len(paras) - 1, -1, -1):
        if marks[i] is not None:
            continue
        if not _teaser_like(paras[i], min_words, max_words):
            break
        run.append(i)
    else:
        return []  # reached the top: nothing but short lines
    return sorted(run) if len(run) >= min_lines else []


def _teaser_like(text: str, min_words: int, max_words: int) -> bool:
    """A teaser headline: headline-shaped, but not an item of a numbered list or a table row,
    which close articles as often as teaser lists close pages."""
    return (textutil.is_headline_like(text, min_words, max_words)
            and not _ENUMERATED.match(text) and "\t" not in text)


def following_teasers(paras: Sequence[str], marks: Sequence[object | None], start: int,
                      max_words: int) -> list[int]:
    """Indexes after `start` that continue a teaser list: headline-like, or already marked."""
    out = []
    for j in range(start + 1, len(paras)):
        if marks[j] is not None:
            continue
        if not textutil.is_headline_like(paras[j], 2, max_words):
            break
        out.append(j)
    return out


REGISTRY: dict[str, Heuristic] = {
    "trailing_teaser_block": trailing_teaser_block,
}
