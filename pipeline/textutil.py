"""Small text helpers shared by the stages: paragraph splitting, normalisation, headline tests."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

_LINE = re.compile(r"[^\r\n\u2028\u2029]+")
_WORD = re.compile(r"\w+")
_NON_WORD = re.compile(r"[\W_]+")
# A headline does not end like a sentence or a clause.
_SENTENCE_END = (".", ",", ";", ":", "…")
_CLOSING_QUOTES = "\"'”’»)]"


def split_paragraphs(text: str) -> Iterator[tuple[int, int, str]]:
    """Yield (start, end, paragraph) for each non-blank line; text[start:end] == paragraph."""
    for m in _LINE.finditer(text):
        line = m.group()
        stripped = line.strip()
        if not stripped:
            continue
        # Most lines have no leading space: then they start where the match does.
        start = m.start() if stripped[0] == line[0] else m.start() + len(line) - len(line.lstrip())
        yield start, start + len(stripped), stripped


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
