"""`keyfold`: which non-ASCII characters fold byte by byte, and why that is what `normalise` does.

The byte path's correctness rests on two facts about Unicode as this Python has it, checked here
over every code point: no character `fold_of` accepts can compose with the one before it, and
composing a character with marks keeps it a word character or a word break as it was.
"""

from __future__ import annotations

import sys
import unicodedata
from functools import cache
from itertools import pairwise

import pyarrow as pa
import pytest

from pipeline.rules import keyfold
from pipeline.rules.keyfold import BREAK, UNKNOWN, fold_of
from pipeline.textutil import normalise


@cache
def _all_folds() -> dict[int, int]:
    return {cp: fold_of(chr(cp)) for cp in range(0x80, sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF}


def _second_elements() -> set[int]:
    """Every character that is not first in a canonical decomposition (what NFKC may compose
    with the character before it), and the conjoining jamo NFKC composes into syllables."""
    found = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
    for cp in range(sys.maxunicode + 1):
        decomposition = unicodedata.decomposition(chr(cp))
        if decomposition and not decomposition.startswith("<"):
            found.update(int(part, 16) for part in decomposition.split()[1:])
    return found


@pytest.mark.parametrize(("char", "expected"), [
    ("é", "é"), ("É", "é"), ("П", "п"), ("ё", "ё"), ("Σ", "σ"), ("ς", "σ"), ("中", "中"), ("가", "가"),
    ("\u00a0", BREAK), ("–", BREAK), ("’", BREAK), ("«", BREAK), ("…", BREAK), ("×", BREAK), ("😀", BREAK),
    ("ß", UNKNOWN),  # casefolds to "ss"
    ("ﬁ", UNKNOWN), ("Ａ", UNKNOWN), ("½", UNKNOWN), ("²", UNKNOWN),  # NFKC changes them
    ("\u0301", UNKNOWN), ("\u0bbe", UNKNOWN), ("\u1161", UNKNOWN),  # compose with the one before
    ("\u00a8", UNKNOWN),  # NFKC: a space and a combining diaeresis
    ("ſ", UNKNOWN), ("\u212a", UNKNOWN),  # fold to ASCII, fewer bytes
])
def test_fold_of(char: str, expected: str | int) -> None:
    assert fold_of(char) == (ord(expected) if isinstance(expected, str) else expected)


def test_every_accepted_character_folds_as_normalise_folds_it() -> None:
    """Between two ASCII letters, each character `fold_of` accepts normalises to what it says."""
    for cp, fold in _all_folds().items():
        if fold != UNKNOWN:
            expected = "x y" if fold == BREAK else f"x{chr(fold)}y"
            assert normalise(f"x{chr(cp)}y") == expected, hex(cp)


def test_no_accepted_character_composes_with_the_one_before() -> None:
    second = _second_elements()
    folds = _all_folds()
    for cp, fold in folds.items():
        if fold == UNKNOWN:
            continue
        char = chr(cp)
        assert cp not in second, hex(cp)
        assert ord(unicodedata.normalize("NFD", char)[0]) not in second, hex(cp)
        if fold == BREAK:  # what NFKC makes of it has no character that composes backwards either
            assert not any(ord(c) in second for c in unicodedata.normalize("NFKC", char)), hex(cp)
    assert all(c in second for c in (0x0301, 0x0bbe, 0x1161)) and folds[0x0301] == UNKNOWN


def test_composing_keeps_the_class_of_the_first_character() -> None:
    """What the word-count lower bound of other text rests on: a character composed from a base
    that folds to a word character is alphanumeric, and one from a base that folds to a break
    is not (so marks neither join two words nor make a word of a break)."""
    folds = _all_folds()
    for cp in range(0x80, sys.maxunicode + 1):
        char = chr(cp)
        decomposition = unicodedata.decomposition(char)
        if not decomposition or decomposition.startswith("<"):
            continue
        base = unicodedata.normalize("NFD", char)[0]
        fold = (ord(base) if base.isalnum() else BREAK) if base.isascii() else folds[ord(base)]
        if fold == UNKNOWN:
            continue
        assert char.isalnum() == (fold != BREAK), (hex(cp), base)


def test_folded_bytes() -> None:
    texts = pa.array(["Ёлка — É ok", "a\u0301b", "", None, "中文。"], pa.large_string())
    mapped, offsets = keyfold.folded(texts)
    pieces = [mapped[a:b].tobytes() for a, b in pairwise(offsets)]
    assert pieces[0] == "ёлка".encode() + b" " * 5 + "é ok".encode()  # the dash: 3 bytes of break
    assert pieces[1] == b"a" + bytes([keyfold.NON_ASCII]) * 2 + b"b"  # a combining mark: unknown
    assert pieces[2:4] == [b"", b""]
    assert pieces[4] == "中文".encode() + b"   "  # the ideographic full stop is 3 bytes of break
