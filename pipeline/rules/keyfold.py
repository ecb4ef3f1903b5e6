"""A string column's bytes folded as `textutil.normalise` folds them, where that can be done byte
by byte: the numpy path of the site-template keys (`templates.key_array`).

`normalise` is NFKC, then casefold, then every run of non-word characters ([\\W_]) one space. For
an ASCII byte that is: a letter or digit lower-cased, anything else a space. A non-ASCII character
folds byte by byte too when what NFKC and casefold make of it does not depend on its neighbours
(`fold_of`): a word character that stays one character of as many bytes (Cyrillic, Greek, most
accented Latin letters, CJK ideographs) becomes its case-folded bytes, and a character that
folds to non-word characters only (dashes, typographic quotes, no-break spaces, symbols) becomes
spaces. Any other character (combining marks, ligatures, full-width forms, "ß") is `UNKNOWN`:
its bytes are marked, and a text holding one is left to `normalise` itself.

Before, only ASCII and twelve punctuation characters took this path: every paragraph with one
accented or Cyrillic letter was normalised in Python, about 9 microseconds each.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pyarrow as pa

from pipeline.rules import slices

# A folded byte: a space (a word break), the marker of a byte of an UNKNOWN character, or the byte
# of a word character (an ASCII letter or digit lower-cased, or a byte of a non-ASCII one).
SPACE, NON_ASCII = 32, 1
# ASCII bytes as normalise folds them; every other byte a marker, until `fold_of` says better.
_ASCII_TABLE = bytes([(ord(chr(b).lower()) if chr(b).isalnum() else SPACE) if b < 128 else NON_ASCII
                      for b in range(256)])

# `fold_of`'s answers that are not a code point.
UNKNOWN, BREAK = -1, -2

# The vowel and trailing consonant jamo compose with the jamo or syllable before them (NFKC's
# Hangul composition), though they are letters of no mark category.
_JAMO = ((0x1161, 0x1175), (0x11A8, 0x11C2))


def _joins_before(char: str) -> bool:
    """Whether NFKC may compose the character with the one before it (or reorder the two): a
    combining mark, a spacing vowel sign, a conjoining jamo."""
    cp = ord(char)
    return unicodedata.category(char).startswith("M") or any(a <= cp <= b for a, b in _JAMO)


def fold_of(char: str) -> int:
    """What `normalise` makes of a non-ASCII character among ASCII and other characters this
    accepts: the code point of the word character it becomes, with as many UTF-8 bytes; BREAK if it
    becomes non-word characters only; or UNKNOWN.

    NFKC changes text only within a character unless a character composes with the one before
    it; the characters that can (every second element of a canonical composition,
    tests/test_keyfold.py) are UNKNOWN, as is every character whose decomposition starts with one
    or holds one after NFKC. casefold works character by character."""
    if _joins_before(char) or _joins_before(unicodedata.normalize("NFD", char)[0]):
        return UNKNOWN
    compat = unicodedata.normalize("NFKC", char)
    if char.isalnum():
        folded = char.casefold()
        same_size = len(folded) == 1 and len(folded.encode()) == len(char.encode())
        return ord(folded) if compat == char and same_size and folded.isalnum() else UNKNOWN
    if any(c.isalnum() or _joins_before(c) for c in compat.casefold()):
        return UNKNOWN
    return BREAK


_FOLD_OF = slices.CodePointTable(fold_of, np.int32)


def folded(texts: pa.LargeStringArray) -> tuple[np.ndarray, np.ndarray]:
    """The texts' bytes folded (ASCII and the characters `fold_of` knows; every byte of another
    character NON_ASCII), and offsets (from 0) that delimit each text in them."""
    raw, offsets = slices.utf8_bytes(texts)
    # bytes.translate: one C loop over a table, twice as fast as indexing an array with the bytes.
    mapped = np.frombuffer(bytearray(raw).translate(_ASCII_TABLE), np.uint8)
    chars = slices.non_ascii(raw)
    if len(chars.leads):
        fold = _FOLD_OF.of(chars.codes)
        breaks = fold == BREAK
        for k in range(4):
            at = chars.leads[breaks & (chars.sizes > k)]
            mapped[at + k] = SPACE
        _write_utf8(mapped, chars.leads[fold > 0], chars.sizes[fold > 0], fold[fold > 0])
    return mapped, offsets


def _write_utf8(mapped: np.ndarray, leads: np.ndarray, sizes: np.ndarray, codes: np.ndarray) -> None:
    """Each code point's UTF-8 bytes at its lead (each has the `size` of the character it folds)."""
    codes = codes.astype(np.int64)
    for size, prefix in ((2, 0xC0), (3, 0xE0), (4, 0xF0)):
        at = sizes == size
        if not at.any():
            continue
        lead, code = leads[at], codes[at]
        mapped[lead] = prefix | (code >> (6 * (size - 1)))
        for k in range(1, size):
            mapped[lead + k] = 0x80 | ((code >> (6 * (size - 1 - k))) & 0x3F)
