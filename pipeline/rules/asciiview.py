"""The ASCII view of a string column that `re2gate`'s patterns run over: each non-ASCII character
becomes one byte naming its kind (`KINDS`), computed over the column's UTF-8 bytes in numpy."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipeline.rules import slices

# The byte standing for each kind of non-ASCII character in the view.
SPACE, DIGIT, WORD, CASED, MULTI, OTHER = 1, 2, 3, 4, 5, 6
KINDS = frozenset({SPACE, DIGIT, WORD, CASED, MULTI, OTHER})
# The non-ASCII characters that match an ASCII letter, case ignored (tests/test_re2gate.py): "İ"
# casefolds to two characters, its kind is MULTI.
CASED_CHARS = frozenset("\u0130\u0131\u017f\u212a")


def kind(char: str) -> int:
    """The kind of a non-ASCII character."""
    if len(char.casefold()) > 1:
        return MULTI
    if char in CASED_CHARS:
        return CASED
    if char.isspace():
        return SPACE
    if char.isdecimal():
        return DIGIT
    return WORD if char.isalnum() else OTHER


_KIND_OF = slices.CodePointTable(kind, np.uint8)


def ascii_view(texts: pa.Array,
               slice_rows: int = slices.SLICE_ROWS) -> tuple[pa.LargeStringArray, np.ndarray]:
    """The texts with each non-ASCII character one byte, its `kind` (over the column's UTF-8 bytes
    in numpy: a lead byte becomes the kind, continuation bytes are dropped; null stays null), and
    which texts hold a MULTI character; computed `slice_rows` texts at a time."""
    parts = slices.by_slices(texts, _ascii_view, slice_rows)
    if len(parts) == 1:
        return parts[0]
    return pa.concat_arrays([v for v, _ in parts]), np.concatenate([m for _, m in parts])


def _ascii_view(texts: pa.Array) -> tuple[pa.LargeStringArray, np.ndarray]:
    texts = texts.cast(pa.large_string())
    if texts.offset:
        texts = pa.concat_arrays([pa.array([], pa.large_string()), texts])  # a copy from offset 0
    offsets = np.frombuffer(texts.buffers()[1], np.int64)[:len(texts) + 1]
    data = texts.buffers()[2]
    raw = np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]] if data is not None else np.zeros(0, np.uint8)
    offsets = offsets - offsets[0]
    chars = slices.non_ascii(raw)
    multi = np.zeros(len(texts), bool)
    if not len(chars.leads):
        return texts, multi
    leads, dropped = chars.leads, chars.tails
    kinds = _KIND_OF.of(chars.codes)
    multi[np.searchsorted(offsets, leads[kinds == MULTI], side="right") - 1] = True
    mapped = raw.copy()
    mapped[leads] = kinds
    keep = np.ones(len(raw), bool)
    keep[dropped] = False
    bounds = offsets - np.searchsorted(dropped, offsets)
    view = pa.Array.from_buffers(pa.large_string(), len(texts),
                                 [texts.buffers()[0], pa.py_buffer(bounds), pa.py_buffer(mapped[keep])])
    return view, multi
