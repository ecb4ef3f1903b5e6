"""`textutil.split_paragraphs` over a whole batch of plain-text documents at once, in Arrow and
numpy: one Python call per document (and its rows converted back to Arrow) was most of extract's
time on a text corpus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.rules import slices

# Exactly the characters str.strip() removes (those for which str.isspace() is true), given to
# utf8_trim explicitly: Arrow's own whitespace table (utf8_trim_whitespace) agrees with Python's
# today, but it is another library's table, and a different Unicode version could move it.
# Unicode has no whitespace beyond the BMP (the tests check every code point): reading the other
# planes too would cost 50 ms of every process's import.
WHITESPACE = "".join(c for c in map(chr, range(0x10000)) if c.isspace())
# The line ends of split_paragraphs other than "\n": in UTF-8, "\r" is the byte 0x0D (an ASCII
# byte never occurs inside a longer sequence) and U+2028/U+2029 are E2 80 A8 / E2 80 A9.
_OTHER_LINE_ENDS = "[\r\u2028\u2029]"


@dataclass(frozen=True)
class SplitColumn:
    """The paragraphs of an array of documents, in document order then line order."""

    doc: np.ndarray          # the index in the input array of each paragraph's document
    para_idx: np.ndarray     # int32, the paragraph's number in its document
    text: pa.Array           # the stripped line
    char_start: np.ndarray   # int64, in characters (code points) of the document
    char_end: np.ndarray
    counts: np.ndarray       # paragraphs per document of the input

    def first_match(self, n: int, match: Callable[[str], bool]) -> dict[int, str | None]:
        """For each document with a paragraph, the first of its first `n` paragraphs that `match`es
        (None if none does): line by line, so that only the documents still without one convert
        their next line to Python (a text's title is most often its first line)."""
        found: dict[int, str | None] = dict.fromkeys(np.flatnonzero(self.counts).tolist())
        open_ = self.counts > 0
        for i in range(n):
            rows = np.flatnonzero((self.para_idx == i) & open_[self.doc])
            if not len(rows):
                break
            for doc, text in zip(self.doc[rows].tolist(), self.text.take(pa.array(rows)).to_pylist(),
                                 strict=True):
                if match(text):
                    found[doc] = text
                    open_[doc] = False
        return found


def _has_other_line_ends(content: pa.StringArray) -> bool:
    """Whether any string holds "\r", U+2028 or U+2029, read in its UTF-8 bytes (no copy)."""
    data, _ = slices.utf8_bytes(content)
    if (data == 0x0D).any():
        return True
    lead = np.flatnonzero(data[:-2] == 0xE2)
    return bool(((data[lead + 1] == 0x80) & ((data[lead + 2] == 0xA8) | (data[lead + 2] == 0xA9))).any())


def _bytes(strings: pa.Array) -> np.ndarray:
    return pc.binary_length(strings).to_numpy().astype(np.int64)


def _chars(strings: pa.Array) -> np.ndarray:
    return pc.utf8_length(strings).to_numpy().astype(np.int64)


def _stripped(lines: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]:
    """Each line stripped, with the lengths in characters of the line, of the whitespace before
    its text, and of its text. Counting characters reads every byte: it is done once for the
    lines; in an ASCII line (as many characters as bytes) the rest are byte lengths."""
    left = pc.utf8_ltrim(lines, WHITESPACE)
    stripped = pc.utf8_rtrim(left, WHITESPACE)
    n_bytes, n_left, n_text = _bytes(lines), _bytes(left), _bytes(stripped)
    n_chars = _chars(lines)
    lead, trail = n_bytes - n_left, n_left - n_text
    wide = np.flatnonzero((n_chars != n_bytes) & ((lead > 0) | (trail > 0)))
    if len(wide):
        rows = pa.array(wide)
        left_chars = _chars(left.take(rows))
        lead[wide] = n_chars[wide] - left_chars
        trail[wide] = left_chars - _chars(stripped.take(rows))
    return stripped, n_chars, lead, n_chars - lead - trail


def split_column(content: pa.StringArray) -> SplitColumn:
    """Every document's non-blank lines, stripped, with their offsets: split_paragraphs' rows for
    each string of `content` (which must hold no null)."""
    if content.null_count:
        raise ValueError("split_column: null content")
    if _has_other_line_ends(content):
        # Every line end is one character: making them all "\n" moves no character offset.
        content = pc.replace_substring_regex(content, _OTHER_LINE_ENDS, "\n")
    lines = pc.split_pattern(content, "\n")
    parent = pc.list_parent_indices(lines).to_numpy()
    stripped, lens, lead, n_text = _stripped(pc.list_flatten(lines))
    keep = n_text > 0
    # A line starts after the lines before it in its document and their line ends; each document
    # has at least one line ("" splits to [""]), its first at lines.offsets.
    step = lens + 1
    pos = np.cumsum(step) - step
    offsets = lines.offsets.to_numpy()
    pos -= pos[offsets[:-1] - offsets[0]][parent]
    start = (pos + lead)[keep]
    doc = parent[keep]
    counts = np.bincount(doc, minlength=len(content))
    para_idx = np.arange(len(doc)) - np.repeat(np.cumsum(counts) - counts, counts)
    return SplitColumn(doc, para_idx.astype(np.int32), stripped.filter(pa.array(keep)),
                       start, start + n_text[keep], counts)
