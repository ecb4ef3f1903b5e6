"""`textutil.split_paragraphs` over a whole batch of plain-text documents at once, in Arrow and
numpy: one Python call per document (and its rows converted back to Arrow) was most of extract's
time on a text corpus."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Exactly the characters str.strip() removes (those for which str.isspace() is true), given to
# utf8_trim explicitly: Arrow's own whitespace table (utf8_trim_whitespace) agrees with Python's
# today, but it is another library's table, and a different Unicode version could move it.
WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
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

    def first(self, n: int) -> tuple[np.ndarray, list[str]]:
        """The first `n` paragraphs of each document: their documents and texts (for titles)."""
        mask = self.para_idx < n
        return self.doc[mask], self.text.filter(pa.array(mask)).to_pylist()


def _has_other_line_ends(content: pa.StringArray) -> bool:
    _, offsets_buf, data_buf = content.buffers()
    if data_buf is None or len(content) == 0:
        return False
    width = np.int64 if pa.types.is_large_string(content.type) else np.int32
    offsets = np.frombuffer(offsets_buf, width)[content.offset:content.offset + len(content) + 1]
    data = np.frombuffer(data_buf, np.uint8)[offsets[0]:offsets[-1]]
    if (data == 0x0D).any():
        return True
    lead = np.flatnonzero(data[:-2] == 0xE2)
    return bool(((data[lead + 1] == 0x80) & ((data[lead + 2] == 0xA8) | (data[lead + 2] == 0xA9))).any())


def _lengths(strings: pa.Array) -> np.ndarray:
    return pc.utf8_length(strings).to_numpy().astype(np.int64)


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
    flat = pc.list_flatten(lines)
    lens = _lengths(flat)
    left = pc.utf8_ltrim(flat, WHITESPACE)
    stripped = pc.utf8_rtrim(left, WHITESPACE)
    n_stripped = _lengths(stripped)
    keep = n_stripped > 0
    # A line starts after the lines before it in its document and their line ends; each document
    # has at least one line ("" splits to [""]), its first at lines.offsets.
    step = lens + 1
    pos = np.cumsum(step) - step
    offsets = lines.offsets.to_numpy()
    first = offsets[:-1] - offsets[0]
    pos -= pos[first][parent]
    start = (pos + lens - _lengths(left))[keep]
    doc = parent[keep]
    counts = np.bincount(doc, minlength=len(content))
    para_idx = np.arange(len(doc)) - np.repeat(np.cumsum(counts) - counts, counts)
    return SplitColumn(doc, para_idx.astype(np.int32), stripped.filter(pa.array(keep)),
                       start, start + n_stripped[keep], counts)
