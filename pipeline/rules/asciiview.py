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


class _Kinds:
    """`kind` of every code point, looked up in numpy; filled in as characters are first seen."""

    def __init__(self) -> None:
        self._table = np.zeros(0x110000, np.uint8)  # 0: not seen yet

    def of(self, codes: np.ndarray) -> np.ndarray:
        found = self._table[codes]
        new = np.unique(codes[found == 0])
        if len(new):
            self._table[new] = [kind(chr(c)) for c in new.tolist()]
            found = self._table[codes]
        return found


_KIND_OF = _Kinds()


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
    high = np.flatnonzero(raw >= 0x80)
    multi = np.zeros(len(texts), bool)
    if not len(high):
        return texts, multi
    is_lead = raw[high] >= 0xC0
    leads, dropped = high[is_lead], high[~is_lead]
    size = 2 + (raw[leads] >= 0xE0) + (raw[leads] >= 0xF0)
    code = raw[leads].astype(np.int64) & np.where(size == 2, 0x1F, np.where(size == 3, 0x0F, 0x07))
    for k in range(1, 4):
        more = size > k
        code[more] = (code[more] << 6) | (raw[leads[more] + k] & 0x3F)
    kinds = _KIND_OF.of(code)
    multi[np.searchsorted(offsets, leads[kinds == MULTI], side="right") - 1] = True
    mapped = raw.copy()
    mapped[leads] = kinds
    keep = np.ones(len(raw), bool)
    keep[dropped] = False
    bounds = offsets - np.searchsorted(dropped, offsets)
    view = pa.Array.from_buffers(pa.large_string(), len(texts),
                                 [texts.buffers()[0], pa.py_buffer(bounds), pa.py_buffer(mapped[keep])])
    return view, multi
