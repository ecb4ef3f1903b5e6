"""Structural heuristics: named functions over a whole document, registered like pattern rules.

Each takes a view of the document (paragraph texts, and for HTML each block's kind and link
density), the marks made so far (None = not yet removed) and the rule's options, and returns
the indexes it would remove. They never rewrite text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline import textutil

_ENUMERATED = re.compile(r"^\s*(\d{1,3}|[a-zA-Z])\s*[.)\]:]\s")
# What a reference or footnote item has and a teaser card has not: a URL, a back-link, a year.
_CITATION = re.compile(r"https?://|www\.|\u21a9|\b(?:1[89]|20)\d\d\b")

@dataclass(frozen=True)
class DocView:
    paras: Sequence[str]
    tags: Sequence[str | None] = ()
    link_density: Sequence[float | None] = ()
    title: str | None = None  # the title extraction found (HTML metadata, or a text's headline)

    def links(self, i: int) -> float | None:
        return self.link_density[i] if i < len(self.link_density) else None

    def tag(self, i: int) -> str | None:
        return self.tags[i] if i < len(self.tags) else None


Heuristic = Callable[[DocView, Sequence[object | None], dict[str, Any]], list[int]]


def trailing_teaser_block(doc: DocView, marks: Sequence[object | None],
                          options: dict[str, Any]) -> list[int]:
    """A run of short headline-like lines closing a document is a related-story list (already
    marked lines, site UI after the list, are skipped over)."""
    min_lines = int(options.get("min_lines", 3))
    max_words = int(options.get("max_words", 20))
    min_words = int(options.get("min_words", 4))
    return _closing_run(doc, marks, lambda i: _teaser_like(doc.paras[i], min_words, max_words), min_lines)


def _closing_run(doc: DocView, marks: Sequence[object | None], accept: Callable[[int], bool],
                 min_len: int) -> list[int]:
    """The unmarked paragraphs closing a document that all pass `accept` (marked ones are skipped
    over), if there are at least `min_len`; none if the run reaches the first paragraph, since a
    document made only of such lines is not an article followed by a list."""
    run: list[int] = []
    for i in range(len(doc.paras) - 1, -1, -1):
        if marks[i] is not None:
            continue
        if not accept(i):
            break
        run.append(i)
    else:
        return []
    return sorted(run) if len(run) >= min_len else []


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


def link_list_block(doc: DocView, marks: Sequence[object | None], options: dict[str, Any]) -> list[int]:
    """Runs of consecutive short blocks that are (almost) all link text: teaser and related lists.

    Only HTML documents know their links; plain text is left to the other heuristics.
    """
    min_items = int(options.get("min_items", 2))
    min_density = float(options.get("min_density", 0.8))
    max_words = int(options.get("max_words", 25))
    if not doc.link_density and min_density > 0:
        return []  # no link densities (plain text): no block is dense
    out: list[int] = []
    run: list[int] = []
    for i, text in enumerate([*doc.paras, ""]):
        dense = i < len(doc.paras) and (doc.links(i) or 0.0) >= min_density \
            and len(text.split()) <= max_words
        if dense or (i < len(doc.paras) and marks[i] is not None and run):
            run.append(i)
            continue
        hits = [j for j in run if marks[j] is None]
        if len(hits) >= min_items:
            out.extend(hits)
        run = []
    return out


def title_repeat(doc: DocView, marks: Sequence[object | None], options: dict[str, Any]) -> list[int]:
    """Opening paragraphs that only repeat the page title: the title has its own column, and a
    body that starts with it again counts the headline twice."""
    if not doc.title:
        return []
    def norm(text: str) -> str:
        return " ".join(text.split()).casefold()

    first = doc.paras[: int(options.get("max_position", 3))]
    return [i for i, text in enumerate(first) if marks[i] is None and norm(text) == norm(doc.title)]


def teaser_card_list(doc: DocView, marks: Sequence[object | None], options: dict[str, Any]) -> list[int]:
    """A list closing an HTML page whose every item is part link, part plain text: teaser cards
    (a linked headline glued to its one-line summary). Article lists rarely link every item, and
    a link list with no summaries is `link_list_block`'s; the run must follow body paragraphs.
    Reference lists share the shape, so an item with a URL, a back-link or a year ends the run."""
    min_items = int(options.get("min_items", 3))
    low, high = float(options.get("min_density", 0.2)), float(options.get("max_density", 0.8))
    max_words = int(options.get("max_words", 30))

    def card(i: int) -> bool:
        text = doc.paras[i]
        return (doc.tag(i) == "item" and low <= (doc.links(i) or 0.0) < high
                and len(text.split()) <= max_words and not _CITATION.search(text))
    return _closing_run(doc, marks, card, min_items)


REGISTRY: dict[str, Heuristic] = {
    "teaser_card_list": teaser_card_list,
    "trailing_teaser_block": trailing_teaser_block,
    "link_list_block": link_list_block,
    "title_repeat": title_repeat,
}
