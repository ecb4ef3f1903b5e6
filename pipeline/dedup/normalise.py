"""Normalisation and tokenisation before shingling: explicit, and the same scalar or vectorised.

A paragraph is normalised by Unicode NFKC (full-width forms, ligatures, the ellipsis "…" become
plain characters), then case folding (`str.casefold`, so "Straße" == "STRASSE"), then every
character that is not a letter, digit or combining mark becomes a word boundary. Quotes of any
shape (' " ‘ ’ “ ” « »), dashes (- – —), underscores and all whitespace therefore vanish, so
"‘We now have…’" and "“We now have…”" give the same words. Marks are kept as word characters
(unlike Python's `\\w`) so that Indic vowel signs do not split words.

`tokenise` does the same over many paragraphs at once: the paragraphs are joined and encoded as
UTF-8, one `bytes.translate` lowers ASCII letters and zeroes every other ASCII byte, and each
maximal run of word bytes becomes a 64-bit token hash (`hashing.word_hash` of its UTF-8 bytes).
A paragraph that is not ASCII once its common punctuation (curly quotes, dashes, ellipsis,
special spaces) is blanked goes through Python's NFKC and casefold first, with its non-word
characters classified in numpy over UTF-32 code points.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pipeline.dedup.hashing import PAD, word_hash, word_hash_scalar

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
    return word_hash_scalar(word.encode("utf-8"))


# bytes.translate table: an ASCII letter or digit becomes its lower-case byte, any other ASCII
# byte 0 (a word boundary); bytes >= 0x80 come only from the cleaned non-ASCII paragraphs, where
# every non-word character is already a space, so they are word bytes and stay as they are.
_LOWER_WORDS = (bytes(ord(chr(b).lower()) if chr(b).isalnum() else 0 for b in range(128))
                + bytes(range(128, 256)))
# Non-ASCII punctuation common in news (quotes, dashes, ellipsis, no-break and thin spaces):
# neither they nor their NFKC forms hold a word character, so they are word boundaries like a
# space. A paragraph that is ASCII once they are spaces takes the fast path.
PUNCTUATION = re.compile("[\u2018-\u201f\u00ab\u00bb\u2039\u203a\u2010-\u2015\u2026\u00a0\u2022"
                    "\u00b7\u2032\u2033\u202f\u2009\u200b]")
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
    # of the cost.
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def _clean_non_ascii(texts: list[str]) -> list[str]:
    """Each text folded (NFKC, casefold) with every non-word character (newlines too) a space."""
    if not texts:
        return []
    joined = _SEP.join([_fold(t).replace(_SEP, " ") for t in texts])
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).copy()
    cps[~_word_mask(cps) & (cps != ord(_SEP))] = ord(" ")
    return cps.tobytes().decode("utf-32-le").split(_SEP)


def _utf8_words(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The paragraphs joined by _SEP as UTF-8 (raw), and the same bytes followed by PAD zeros with
    words lowered and every other byte 0. ASCII paragraphs (most; `isascii` is O(1)) are folded
    by the byte table alone: on ASCII, NFKC changes nothing and casefold is lower."""
    parts = list(texts)
    odd = []
    for i, t in enumerate(parts):
        if not t.isascii():
            plain = PUNCTUATION.sub(" ", t)
            if plain.isascii():
                parts[i] = plain
            else:
                odd.append(i)
    for i, cleaned in zip(odd, _clean_non_ascii([parts[i] for i in odd]), strict=True):
        parts[i] = cleaned
    joined = _SEP.join(parts)
    if joined.count(_SEP) != len(parts) - 1:  # an ASCII paragraph holding a newline: make it a space
        joined = _SEP.join(p.replace(_SEP, " ") for p in parts)
    raw = joined.encode("utf-8")
    words = (raw + bytes(PAD)).translate(_LOWER_WORDS)
    return np.frombuffer(raw, dtype=np.uint8), np.frombuffer(words, dtype=np.uint8)


def tokenise(texts: list[str]) -> Tokens:
    """Token hashes of each paragraph's normalised words (their UTF-8 bytes), in order."""
    if not texts:
        return Tokens(np.zeros(0, np.uint64), np.zeros(1, np.int64))
    raw, words = _utf8_words(texts)
    # The word mask padded with non-word at both ends: its transitions alternate start, end.
    mask = np.zeros(len(words) + 1, dtype=np.int8)
    np.not_equal(words, 0, out=mask[1:].view(bool))
    edges = np.flatnonzero(mask[1:] != mask[:-1])
    starts, ends = edges[0::2], edges[1::2]
    hashes = word_hash(words, starts, ends)
    # A paragraph's first word is the first start after the separator before it.
    firsts = np.searchsorted(starts, np.flatnonzero(raw == ord(_SEP)))
    return Tokens(hashes, np.concatenate(([0], firsts, [len(starts)])).astype(np.int64))
