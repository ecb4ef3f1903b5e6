"""Normalisation and tokenisation before shingling: explicit, and the same scalar or vectorised.

A paragraph is normalised by Unicode NFKC (full-width forms, ligatures, the ellipsis "…" become
plain characters), then case folding (`str.casefold`, so "Straße" == "STRASSE"), then every
character that is not a letter, digit or combining mark becomes a word boundary. Quotes of any
shape (' " ‘ ’ “ ” « »), dashes (- – —), underscores and all whitespace therefore vanish, so
"‘We now have…’" and "“We now have…”" give the same words. Marks are kept as word characters
(unlike Python's `\\w`) so that Indic vowel signs do not split words.

`tokenise` does the same over many paragraphs at once in numpy: the paragraphs are joined,
normalised in one C call, viewed as UTF-32 code points, and each maximal run of word characters
becomes a 64-bit token hash (a polynomial over its code points, then a 64-bit finaliser).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pipeline.dedup.hashing import fmix64, segment_hash, segment_hash_scalar

_SEP = "\n"


@lru_cache(maxsize=65536)
def is_word_char(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


def normalise(text: str) -> str:
    """The normalised form: words joined by single spaces (the reference for `tokenise`)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(c if is_word_char(c) else " " for c in folded).split())


def token_hash(word: str) -> int:
    """Hash of one normalised word, as `tokenise` computes it (scalar reference, for tests)."""
    return segment_hash_scalar([ord(c) for c in word])


_ASCII_WORD = np.array([chr(i).isalnum() for i in range(128)], dtype=bool)


def _word_mask(cps: np.ndarray) -> np.ndarray:
    mask = np.zeros(len(cps), dtype=bool)
    small = cps < 128
    mask[small] = _ASCII_WORD[cps[small]]
    big = ~small
    if big.any():
        uniq, inv = np.unique(cps[big], return_inverse=True)
        cls = np.fromiter((is_word_char(chr(c)) for c in uniq.tolist()), dtype=bool, count=len(uniq))
        mask[big] = cls[inv]
    return mask


@dataclass(frozen=True)
class Tokens:
    """Token hashes of n paragraphs, flat: paragraph i owns hashes[offsets[i]:offsets[i + 1]]."""

    hashes: np.ndarray   # uint64
    offsets: np.ndarray  # int64, n + 1

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)


def _fold(text: str) -> str:
    # Most paragraphs are already NFKC (checked fast); normalising only the others saves the bulk
    # of the cost. casefold == lower on ASCII, and lower is the faster of the two there.
    if text.isascii():
        return text.lower()
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def _joined_code_points(texts: list[str]) -> np.ndarray:
    folded = _SEP.join([_fold(t) for t in texts])
    if folded.count(_SEP) != len(texts) - 1:  # a paragraph holding a newline: make it a space
        folded = _SEP.join(_fold(t.replace(_SEP, " ")) for t in texts)
    return np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)


def tokenise(texts: list[str]) -> Tokens:
    """Token hashes of each paragraph's normalised words, in order."""
    if not texts:
        return Tokens(np.zeros(0, np.uint64), np.zeros(1, np.int64))
    cps = _joined_code_points(texts)
    seps = np.flatnonzero(cps == ord(_SEP))
    word = _word_mask(cps).view(np.int8)
    edges = np.diff(np.concatenate(([0], word, [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    hashes = fmix64(segment_hash(cps.astype(np.uint64), starts, ends))
    para = np.searchsorted(seps, starts)
    counts = np.bincount(para, minlength=len(texts))
    return Tokens(hashes, np.concatenate(([0], np.cumsum(counts))).astype(np.int64))
