"""Extract's output tables from what a batch's two paths found: plain text split in columns
(`text_split`), pages and the rest one by one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import schema
from pipeline.html_blocks import Block
from pipeline.stages import text_split
from pipeline.textutil import Split

if TYPE_CHECKING:
    from pipeline.stages.extract import Extracted


@dataclass
class Paragraphs:
    """A batch's paragraph rows as columns: a dict per paragraph cost more than the split itself."""

    doc_id: list[str] = field(default_factory=list)
    para_idx: list[int] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    char_start: list[int] = field(default_factory=list)
    char_end: list[int] = field(default_factory=list)
    tag: list[str | None] = field(default_factory=list)
    link_density: list[float | None] = field(default_factory=list)

    def add(self, doc_id: str, split: Split, blocks: tuple[Block, ...] | None) -> None:
        """One row per non-empty line; for HTML each line is a block, so it carries the block's kind."""
        texts, starts, ends = split
        n = len(texts)
        self.doc_id += [doc_id] * n
        self.para_idx += range(n)
        self.text += texts
        self.char_start += starts
        self.char_end += ends
        if blocks is not None and len(blocks) == n:
            self.tag += [b.tag for b in blocks]
            self.link_density += [round(b.link_density, 4) for b in blocks]
        else:
            self.tag += [None] * n
            self.link_density += [None] * n

    def table(self) -> pa.Table:
        n = len(self.text)
        given = {"doc_id": self.doc_id, "para_idx": self.para_idx, "text": self.text,
                 "char_start": self.char_start, "char_end": self.char_end, "status": [schema.KEPT] * n,
                 "tag": self.tag, "link_density": self.link_density}
        return schema.table_of(schema.PARAGRAPHS, n, given)


@dataclass
class Found:
    """What extraction found in a batch, by row of the input."""

    pages: dict[int, Extracted] = field(default_factory=dict)  # kept, on the per-document path
    titles: dict[int, str | None] = field(default_factory=dict)  # kept plain text: the text is the content
    rejects: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    paras: Paragraphs = field(default_factory=Paragraphs)  # the per-document path's paragraphs
    para_rows: list[int] = field(default_factory=list)  # and the row of each

    def kept(self) -> list[int]:
        return sorted(self.pages.keys() | self.titles.keys())

    def reject_rows(self) -> list[dict[str, Any]]:
        return [r for _, r in sorted(self.rejects, key=lambda r: r[0])]


def documents_table(documents: pa.Table, found: Found) -> pa.Table:
    """Rows of `documents` kept, with what extraction found for each: the input's columns are taken
    whole (no dict per document), and so is the content as the text of plain-text documents."""
    kept = found.kept()
    rows = documents if len(kept) == documents.num_rows else documents.take(pa.array(kept, pa.int64()))
    pages = [found.pages.get(i) for i in kept]
    # A crawl record's URL names its host even when the page itself does not (site templates).
    urls = [u or (ex.url if ex else None)
            for u, ex in zip(rows.column("url").to_pylist(), pages, strict=True)]
    made: dict[str, Any] = {
        "url": urls,
        "title": [ex.title if ex else found.titles[i] for i, ex in zip(kept, pages, strict=True)],
        "date": [ex.date if ex else None for ex in pages], "site": [ex.site if ex else None for ex in pages],
        "hostname": [(ex.hostname if ex else None) or host(u) for u, ex in zip(urls, pages, strict=True)],
        "extracted_text": extracted_text(rows.column("content"), pages)}
    return schema.table_of(schema.DOCUMENTS, rows.num_rows, made, rows).combine_chunks()


def extracted_text(content: pa.ChunkedArray, pages: list[Extracted | None]) -> pa.Array | pa.ChunkedArray:
    """The content of plain-text documents (`None` in `pages`), the extracted text of pages."""
    if not any(pages):
        return content
    texts = pa.array([ex.text if ex else None for ex in pages], pa.string())
    return pc.if_else(pa.array([ex is None for ex in pages]), content.combine_chunks(), texts)


def host(url: str | None) -> str | None:
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:  # a malformed URL (bad IPv6 literal, bad port) names no host
        return None


def paragraphs_table(documents: pa.Table, plain: np.ndarray, split: text_split.SplitColumn | None,
                      found: Found) -> pa.Table:
    """Both paths' paragraphs in the input's order: documents in order, their paragraphs in order."""
    if split is None or not len(split.doc):
        return found.paras.table()
    n = len(split.doc)
    doc_rows = plain[split.doc]
    given = {"doc_id": documents.column("doc_id").take(pa.array(doc_rows)), "para_idx": split.para_idx,
             "text": split.text, "char_start": split.char_start, "char_end": split.char_end,
             "status": pa.repeat(pa.scalar(schema.KEPT), n)}
    table = schema.table_of(schema.PARAGRAPHS, n, given)
    if not found.para_rows:
        return table.combine_chunks()
    # Each part is in order, and no document is in both: a stable sort by row interleaves them.
    order = np.argsort(np.concatenate([doc_rows, found.para_rows]), kind="stable")
    return pa.concat_tables([table, found.paras.table()]).take(pa.array(order)).combine_chunks()
