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


Heuristic = Callable[[DocView, Sequence[object | None], dict[str, Any]], list[int]]


def trailing_teaser_block(doc: DocView, marks: Sequence[object | None],
                          options: dict[str, Any]) -> list[int]:
    """A run of short headline-like lines closing a document is a related-story list.

    Already-marked lines (site UI after the list) are skipped over. The run must not reach the
    first paragraph: a document made only of short lines is not an article with a teaser list.
    """
    min_lines = int(options.get("min_lines", 3))
    max_words = int(options.get("max_words", 20))
    min_words = int(options.get("min_words", 4))
    paras = doc.paras
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


def link_list_block(doc: DocView, marks: Sequence[object | None], options: dict[str, Any]) -> list[int]:
    """Runs of consecutive short blocks that are (almost) all link text: teaser and related lists.

    Only HTML documents know their links; plain text is left to the other heuristics.
    """
    min_items = int(options.get("min_items", 2))
    min_density = float(options.get("min_density", 0.8))
    max_words = int(options.get("max_words", 25))
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
    run: list[int] = []
    for i in range(len(doc.paras) - 1, -1, -1):
        if marks[i] is not None:
            continue
        density = doc.links(i) or 0.0
        tag = doc.tags[i] if i < len(doc.tags) else None
        text = doc.paras[i]
        if tag != "item" or not low <= density < high or len(text.split()) > max_words \
                or _CITATION.search(text):
            break
        run.append(i)
    else:
        return []  # a page of nothing but such items is a listing, not an article with a list
    return sorted(run) if len(run) >= min_items else []


REGISTRY: dict[str, Heuristic] = {
    "teaser_card_list": teaser_card_list,
    "trailing_teaser_block": trailing_teaser_block,
    "link_list_block": link_list_block,
    "title_repeat": title_repeat,
}
