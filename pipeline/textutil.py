"""Small text helpers shared by the stages: paragraph splitting, normalisation, headline tests."""

from __future__ import annotations

import re
import unicodedata

_LINE_END = re.compile(r"[\r\n\u2028\u2029]")
_WORD = re.compile(r"\w+")
_NON_WORD = re.compile(r"[\W_]+")
# A headline does not end like a sentence or a clause.
_SENTENCE_END = (".", ",", ";", ":", "…")
_CLOSING_QUOTES = "\"'”’»)]"


# A document's paragraphs: texts, starts, ends, with text[start:end] == paragraph.
Split = tuple[list[str], list[int], list[int]]


def split_paragraphs(text: str) -> Split:
    """Each non-blank line (ended by \n, \r, U+2028 or U+2029), stripped, with its offsets: three
    lists in one pass, as extract's hot loop wants them."""
    texts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    # Most text has only "\n" line ends: str.split finds them much faster than the expression.
    # Splitting on one-character separators yields every line, blank ones included, so a line's
    # offset is the sum of the lengths before it.
    plain = "\r" not in text and "\u2028" not in text and "\u2029" not in text
    for line in text.split("\n") if plain else _LINE_END.split(text):
        stripped = line.strip()
        if stripped:
            # The first non-blank character of the line starts the stripped text.
            start = pos + line.index(stripped[0])
            texts.append(stripped)
            starts.append(start)
            ends.append(start + len(stripped))
        pos += len(line) + 1
    return texts, starts, ends


def words(text: str) -> list[str]:
    return _WORD.findall(text)


# For ASCII text, NFKC changes nothing, casefold is lower, and [\W_] is "not a letter or digit":
# one translate instead of the regular expression (most paragraphs are ASCII; this ran for every
# paragraph of strip's site-template passes).
_ASCII_NON_WORD = {c: " " for c in range(128) if not chr(c).isalnum()}


def normalise(text: str) -> str:
    """Case-, punctuation- and width-insensitive form used for duplicate detection."""
    if text.isascii():
        return " ".join(text.lower().translate(_ASCII_NON_WORD).split())
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NON_WORD.sub(" ", folded).split())


def strip_closing_quotes(text: str) -> str:
    return text.rstrip().rstrip(_CLOSING_QUOTES).rstrip()


def is_headline_like(text: str, min_words: int = 2, max_words: int = 20) -> bool:
    """Short, one line, not ending like a sentence: the shape of titles and teaser links."""
    # The ending first: most paragraphs end like sentences, and counting words costs more.
    core = strip_closing_quotes(text)
    if not core or core.endswith(_SENTENCE_END):
        return False
    return min_words <= len(words(text)) <= max_words
