"""Site templates learnt from the corpus itself: a short paragraph that recurs, exactly after
normalisation, in several documents of one site is template chrome however it is worded.

The idea is CCNet's and onion's line deduplication, scoped to a site: the site is the document's
host when known, else the folder of its source file. Counting is a pure map over batches
(`key_array`, `key_counts`) whose results add up (`add_counts`), so the corpus pass streams.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import textutil
from pipeline.rules import keyfold, slices

RULE_ID = "site_template"
KIND = "site_template"
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


# Per-batch counts of distinct documents per (site, key): what the corpus pass adds up.
COUNTS = pa.schema([("site", pa.string()), ("key", pa.uint64()), ("n", pa.int64())])


def key_counts(doc_ids: pa.Array | pa.ChunkedArray, keys: np.ndarray, valid: np.ndarray,
               sites: Mapping[str, str]) -> pa.Table:
    """Per (site, key) of a batch's `key_array`: the number of distinct documents holding a
    paragraph with that key, as a `COUNTS` table, grouped in Arrow."""
    if isinstance(doc_ids, pa.ChunkedArray):
        doc_ids = doc_ids.combine_chunks()
    docs = doc_ids.filter(pa.array(valid))
    batch_docs = pc.unique(docs)
    # Each document's site, looked up once per document of the batch (None: not a document).
    batch_sites = pa.array([sites.get(d) for d in batch_docs.to_pylist()], pa.string())
    site = batch_sites.take(pc.index_in(docs, value_set=batch_docs))
    table = pa.table({"site": site, "key": pa.array(keys[valid], pa.uint64()), "doc": docs})
    grouped = table.filter(pc.is_valid(site)).group_by(["site", "key"]).aggregate([("doc", "count_distinct")])
    return pa.Table.from_arrays([grouped.column("site"), grouped.column("key"),
                                 grouped.column("doc_count_distinct").cast(pa.int64())], schema=COUNTS)


def add_counts(parts: Sequence[pa.Table]) -> pa.Table:
    """`COUNTS` tables of batches with no document in common, added up per (site, key)."""
    if not parts:
        return COUNTS.empty_table()
    grouped = pa.concat_tables(parts).group_by(["site", "key"]).aggregate([("n", "sum")])
    return pa.Table.from_arrays([grouped.column("site"), grouped.column("key"), grouped.column("n_sum")],
                                schema=COUNTS)


def key_array(texts: pa.Array | pa.ChunkedArray, max_words: int,
              slice_rows: int = slices.SLICE_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """`_key` of every text of a column as uint64 keys and a mask of the texts that have one.

    Text whose every character `keyfold` folds byte by byte ("plain": ASCII, most letters of
    most scripts, dashes and quotes) normalises to its folded bytes with each run of spaces one
    and none at either end; that and the word count run over the column's bytes in numpy, and
    Python only hashes each distinct normal form once. Other text goes through `_key`, unless it
    has more words than `max_words` for sure: its tokens between spaces of the folded bytes that
    start with a word byte are each at least one word of its normal form (NFKC composes a
    character that folds byte by byte only into one of the same alphanumeric class, checked over
    all of Unicode in tests/test_keyfold.py).
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    parts = slices.by_slices(texts, lambda part: _key_array(part, max_words), slice_rows)
    return np.concatenate([k for k, _ in parts]), np.concatenate([v for _, v in parts])


def _key_array(texts: pa.Array, max_words: int) -> tuple[np.ndarray, np.ndarray]:
    keys, valid = np.zeros(len(texts), np.uint64), np.zeros(len(texts), bool)
    if not len(texts):
        return keys, valid
    texts = texts.cast(pa.large_string())  # int64 offsets, whatever the column had
    mapped, offsets = keyfold.folded(texts)
    unknown = np.flatnonzero(mapped == keyfold.NON_ASCII)  # bytes of characters not folded
    present = pc.is_valid(texts).to_numpy(zero_copy_only=False)
    plain = (np.diff(np.searchsorted(unknown, offsets)) == 0) & present
    n_words = _words_per_text(mapped, offsets)  # exact for plain text, a lower bound for the rest
    short = plain & (n_words > 0) & (n_words <= max_words)
    if short.any():
        keys[short] = _hashed(_normal_forms(*_rows_of(mapped, offsets, short)))
        valid |= short
    maybe = ~plain & (n_words <= max_words) & present
    other = np.flatnonzero(maybe)
    for i, text in zip(other.tolist(), texts.take(pa.array(other)).to_pylist(), strict=True):
        if (key := _key(text, max_words)) is not None:
            keys[i], valid[i] = key, True
    return keys, valid


def _rows_of(mapped: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The folded bytes of the `rows` (a mask) and offsets (from 0) that delimit each in them."""
    lengths = np.diff(offsets)
    return mapped[np.repeat(rows, lengths)], np.append(0, np.cumsum(lengths[rows]))


def _normal_forms(mapped: np.ndarray, offsets: np.ndarray) -> pa.LargeStringArray:
    """Folded texts (`_folded`), each with at least one word byte, as strings with each run of
    spaces made one and none at either end."""
    word = mapped != keyfold.SPACE
    starts = np.zeros(len(mapped) + 1, bool)
    starts[offsets] = True
    # The last space of each run before a word of the same text; then the first byte of a text
    # is dropped if it is such a space (the run led the text).
    keep = word.copy()
    keep[:-1] |= word[1:] & ~starts[1:-1]
    kept = np.add.reduceat(keep, offsets[:-1], dtype=np.int64)
    squeezed = mapped[keep]
    ends = np.cumsum(kept)
    begins = ends - kept
    led = begins[squeezed[begins] == keyfold.SPACE]
    if len(led):
        mask = np.ones(len(squeezed), bool)
        mask[led] = False
        squeezed = squeezed[mask]
        ends = ends - np.searchsorted(led, ends, side="left")
    new_offsets = np.append(0, ends).astype(np.int64)
    return pa.Array.from_buffers(pa.large_string(), len(offsets) - 1,
                                 [None, pa.py_buffer(new_offsets), pa.py_buffer(squeezed)])


def _hashed(norms: pa.LargeStringArray) -> np.ndarray:
    """`_hash_bytes` of each string, hashing each distinct one once."""
    encoded = norms.dictionary_encode()
    values = encoded.dictionary
    bounds = np.frombuffer(values.buffers()[1], np.int64)[values.offset:values.offset + len(values) + 1]
    blob = values.buffers()[2].to_pybytes() if values.buffers()[2] is not None else b""
    # The digests read as big-endian integers all at once (what `_hash_bytes` does to each).
    digests = b"".join([hashlib.blake2b(blob[a:b], digest_size=8).digest()
                        for a, b in pairwise(bounds.tolist())])
    return np.frombuffer(digests, ">u8").astype(np.uint64)[encoded.indices.to_numpy()]


def _words_per_text(mapped: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Tokens starting with a word byte (of an ASCII letter or digit, or of a character `keyfold`
    folds to a word character) in each text (`offsets` delimit the texts in `mapped`): a token
    starts after a space or at the text's first byte."""
    word = mapped != keyfold.SPACE
    starts = word & (mapped != keyfold.NON_ASCII)
    starts[1:] &= ~word[:-1]
    firsts = offsets[:-1][offsets[:-1] < offsets[1:]]
    starts[firsts] = word[firsts] & (mapped[firsts] != keyfold.NON_ASCII)
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

    # The keys of every template, sorted: most paragraphs' keys are none of them.
    keys: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        templates = [(site, key) for (site, key), n in self.counts.items() if n >= self.min_docs]
        object.__setattr__(self, "sites", frozenset(site for site, _ in templates))
        object.__setattr__(self, "keys", np.unique(np.array([k for _, k in templates], np.uint64)))

    @classmethod
    def of_counts(cls, counts: pa.Table, min_docs: int, max_words: int) -> TemplateIndex:
        """The index of the (site, key) pairs of a corpus's `COUNTS` held by `min_docs` or more."""
        kept = counts.filter(pc.greater_equal(counts.column("n"), min_docs))
        pairs = zip(kept.column("site").to_pylist(), kept.column("key").to_pylist(), strict=True)
        return cls(dict(zip(pairs, kept.column("n").to_pylist(), strict=True)), min_docs, max_words)

    def documents_sharing_key(self, site: str | None, key: int | None) -> int:
        """How many documents of the site hold the paragraph with this key (`key_array`), when that
        makes it a template."""
        if site is None or key is None:
            return 0
        n = self.counts.get((site, key), 0)
        return n if n >= self.min_docs else 0

    def documents_sharing_keys(self, doc_ids: pa.Array | pa.ChunkedArray, sites: Mapping[str, str],
                               keys: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """`documents_sharing_key` of each row of a batch (its document, whose site `sites` gives,
        and its `key_array`); sites are looked up only for the rows whose key is a template's."""
        shared = np.zeros(len(keys), np.int64)
        hits = np.flatnonzero(valid & np.isin(keys, self.keys))
        hit_docs = doc_ids.take(pa.array(hits)).to_pylist()
        for i, doc_id, key in zip(hits.tolist(), hit_docs, keys[hits].tolist(), strict=True):
            shared[i] = self.documents_sharing_key(sites.get(doc_id), key)
        return shared
