"""Site templates learnt from the corpus itself: a short paragraph that recurs, exactly after
normalisation, in several documents of one site is template chrome however it is worded.

The idea is CCNet's and onion's line deduplication, scoped to a site: the site is the document's
host when known, else the folder of its source file. Counting is a pure map over batches
(`count_templates`) whose results add up, so the corpus pass streams.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import textutil

RULE_ID = "site_template"
KIND = "site_template"
# Byte -> its lower case if an ASCII letter or digit (str.isalnum), a space if another ASCII
# character, a marker if a byte of a non-ASCII character (part of a token, not a letter known).
_SPACE, _NON_ASCII = 32, 1
_FOLD = np.array([(ord(chr(b).lower()) if chr(b).isalnum() else _SPACE) if b < 128 else _NON_ASCII
                  for b in range(256)], dtype=np.uint8)


def site_of(hostname: str | None, source_path: str | None) -> str:
    if hostname:
        return hostname.lower().removeprefix("www.")
    return "folder:" + posixpath.dirname(source_path or "")


def _key(text: str, max_words: int) -> int | None:
    norm = textutil.normalise(text)
    if not norm or norm.count(" ") >= max_words:  # words are joined by single spaces
        return None
    return _hash(norm)


def _hash(norm: str) -> int:
    return _hash_bytes(norm.encode("utf-8"))


def _hash_bytes(norm: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(norm, digest_size=8).digest(), "big")


def count_templates(rows: Iterable[tuple[str, str]], sites: Mapping[str, str],
                    max_words: int) -> Counter[tuple[str, int]]:
    """(doc_id, text) rows -> number of distinct documents per (site, normalised paragraph)."""
    pairs = list(rows)
    return count_keys([d for d, _ in pairs], [_key(t, max_words) for _, t in pairs], sites)


def count_keys(doc_ids: Sequence[str], keys: Sequence[int | None],
               sites: Mapping[str, str]) -> Counter[tuple[str, int]]:
    """Per (site, key): the number of distinct documents holding a paragraph with that key."""
    seen: set[tuple[str, int]] = set()
    counts: Counter[tuple[str, int]] = Counter()
    for doc_id, key in zip(doc_ids, keys, strict=True):
        if key is None or (doc_id, key) in seen:
            continue
        site = sites.get(doc_id)
        if site is None:
            continue
        seen.add((doc_id, key))
        counts[(site, key)] += 1
    return counts


def keys_of(texts: pa.Array | pa.ChunkedArray, max_words: int) -> list[int | None]:
    """`_key` of every text of a column, the same values, for a whole batch at once.

    For ASCII text, normalising is: lower case, every non-alphanumeric a space, runs of spaces
    one (textutil.normalise's ASCII path); that and the word count run over the column's bytes
    in numpy, and Python only joins and hashes the short paragraphs. Other text goes through
    `_key`, unless it has more words than `max_words` for sure: its tokens between ASCII
    non-alphanumerics that start with an ASCII letter or digit are each at least one word of
    its normal form (NFKC composes an ASCII character only into a character of the same
    alphanumeric class, checked over all of Unicode in tests/test_site_templates.py).
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    keys: list[int | None] = [None] * len(texts)
    if not len(texts):
        return keys
    texts = texts.cast(pa.large_string())  # int64 offsets, whatever the column had
    is_ascii = pc.fill_null(pc.string_is_ascii(texts), False).to_numpy(zero_copy_only=False)
    offsets = np.frombuffer(texts.buffers()[1], np.int64)[texts.offset:texts.offset + len(texts) + 1]
    data = texts.buffers()[2]
    # Only this array's bytes: a slice's buffer is its parent's (a whole batch).
    raw = np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]] if data is not None else np.zeros(0, np.uint8)
    offsets = offsets - offsets[0]
    mapped = _FOLD[raw]
    n_words = _words_per_text(mapped, offsets)  # exact for ASCII text, a lower bound for the rest
    for i in np.flatnonzero(is_ascii & (n_words > 0) & (n_words <= max_words)).tolist():
        keys[i] = _hash_bytes(b" ".join(mapped[offsets[i]:offsets[i + 1]].tobytes().split()))
    maybe = ~is_ascii & (n_words <= max_words) & pc.is_valid(texts).to_numpy(zero_copy_only=False)
    other = np.flatnonzero(maybe)
    for i, text in zip(other.tolist(), texts.take(pa.array(other)).to_pylist(), strict=True):
        keys[i] = _key(text, max_words)
    return keys


def _words_per_text(mapped: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Tokens starting with an ASCII letter or digit in each text (`offsets` delimit the texts in
    `mapped`): a token starts after a space or at the text's first byte."""
    word = mapped != _SPACE
    starts = word & (mapped != _NON_ASCII)
    starts[1:] &= ~word[:-1]
    firsts = offsets[:-1][offsets[:-1] < offsets[1:]]
    starts[firsts] = word[firsts] & (mapped[firsts] != _NON_ASCII)
    # Starts before each offset, by binary search (np.cumsum over a bool array was 30x slower).
    before = np.searchsorted(np.flatnonzero(starts), offsets)
    return before[1:] - before[:-1]


@dataclass(frozen=True)
class TemplateIndex:
    counts: Mapping[tuple[str, int], int]
    min_docs: int
    max_words: int
    # Sites with at least one template: on any other site no paragraph needs normalising at all.
    sites: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        sites = frozenset(site for (site, _), n in self.counts.items() if n >= self.min_docs)
        object.__setattr__(self, "sites", sites)

    def documents_sharing(self, site: str | None, text: str) -> int:
        """How many documents of the site hold this paragraph, when that makes it a template."""
        if site not in self.sites:
            return 0
        return self.documents_sharing_key(site, _key(text, self.max_words))

    def documents_sharing_key(self, site: str | None, key: int | None) -> int:
        """`documents_sharing` for a paragraph's key (`keys_of`)."""
        if site is None or key is None:
            return 0
        n = self.counts.get((site, key), 0)
        return n if n >= self.min_docs else 0
