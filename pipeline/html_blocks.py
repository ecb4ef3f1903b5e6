"""Paragraphs from trafilatura's element tree, keeping what the flat text loses: the kind of
block (paragraph, heading, list item, quote, table row) and how much of it is link text.

A list of short items that are all links after the body is a teaser list; a heading is not a
sentence. Strip rules see these as the `tag` and `link_density` columns of a paragraph.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Elements that only hold other blocks; everything else is a block whose text is one paragraph
# per line (trafilatura marks line breaks inside a block with <lb/>).
_CONTAINERS = {"body", "div", "list", "table", "doc", "main"}
_SKIPPED = {"graphic", "lb", "fw", "note"}
_BREAK = None
_SPACED = {"cell", "item", "p", "head", "list", "row", "quote", "table"}


@dataclass(frozen=True)
class Block:
    tag: str
    text: str
    link_density: float


def _norm(text: str) -> str:
    return " ".join(text.split())


def _segments(el: Any, in_link: bool = False) -> Iterator[tuple[str, bool] | None]:
    """Text pieces of an element in order, each flagged as link text; None at a line break."""
    link = in_link or el.tag == "ref"
    if el.tag == "lb":
        yield _BREAK
    elif el.text:
        yield el.text, link
    for child in el:
        if child.tag in _SPACED:
            yield " ", link  # cells and nested blocks are separate words, not glued together
        yield from _segments(child, link)
        if child.tail:
            yield child.tail, in_link or el.tag == "ref"


def _lines(el: Any, tag: str) -> Iterator[Block]:
    pieces: list[tuple[str, bool]] = []
    for seg in [*_segments(el), _BREAK]:
        if seg is not _BREAK:
            pieces.append(seg)
            continue
        text = _norm("".join(p for p, _ in pieces))
        if text:
            link = len(_norm("".join(p for p, is_link in pieces if is_link)))
            yield Block(tag, text, min(1.0, link / len(text)))
        pieces = []


def _is_container(el: Any) -> bool:
    # A quote that wraps paragraphs or lists is a container; a plain quote is a block.
    return el.tag in _CONTAINERS or (el.tag == "quote" and any(c.tag in {"p", "list", "quote"} for c in el))


def blocks_of(el: Any) -> Iterator[Block]:
    """Walk a trafilatura body: containers are entered, text between blocks is not lost."""
    if not _is_container(el):
        if el.tag not in _SKIPPED:
            yield from _lines(el, "item" if el.tag == "item" else el.tag)
        return
    if el.text and el.text.strip() and el.tag != "body":
        yield Block("p", _norm(el.text), 0.0)
    for child in el:
        yield from blocks_of(child)
        if child.tail and child.tail.strip():
            yield Block("p", _norm(child.tail), 0.0)
