"""Extract: decoded documents to paragraphs with character offsets, plus document metadata."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import schema, textutil, timelimit
from pipeline.html_blocks import Block, blocks_of
from pipeline.params import ExtractParams
from pipeline.result import StageResult
from pipeline.stages import text_split
from pipeline.textutil import Split

STAGE = "extract"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None = None
    url: str | None = None
    date: str | None = None
    site: str | None = None
    hostname: str | None = None
    # HTML only: the structured blocks the text was joined from, one paragraph each.
    blocks: tuple[Block, ...] | None = None


def extract_html(html: str, params: ExtractParams) -> Extracted | None:
    """Main text of a page through trafilatura (comments excluded), one paragraph per line."""
    import trafilatura  # heavy import: only paid when there is HTML to extract

    doc = trafilatura.bare_extraction(
        html, include_comments=False, with_metadata=True, include_tables=params.include_tables,
        include_links=True,  # only to measure link density: the text itself never has URLs
        favor_precision=params.favor_precision, favor_recall=params.favor_recall,
        deduplicate=False,  # trafilatura's cache is order-dependent; dedup is our own stage
        date_extraction_params={"original_date": True, "extensive_search": True,
                                "max_date": params.date_max},
    )
    if doc is None or doc.body is None:
        return None
    blocks = tuple(blocks_of(doc.body))
    if not blocks:
        return None
    return Extracted("\n".join(b.text for b in blocks), doc.title or None, doc.url or None,
                     doc.date or None, doc.sitename or None, doc.hostname or None, blocks)


def text_title(paragraphs: list[str], params: ExtractParams) -> str | None:
    """The first of the opening lines that reads as a headline ('Now Reading' is too short)."""
    for para in paragraphs[: params.title_search_lines]:
        if _is_title(para, params):
            return para
    return None


def _is_title(para: str, params: ExtractParams) -> bool:
    return textutil.is_headline_like(para, params.title_min_words, params.title_max_words)


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
        return pa.Table.from_arrays(
            [pa.array(given[f.name], f.type) if f.name in given else pa.nulls(n, f.type)
             for f in schema.PARAGRAPHS], schema=schema.PARAGRAPHS)


def _extract_one(doc: dict[str, Any], params: ExtractParams,
                 html_extractor: Callable[[str, ExtractParams], Extracted | None]) -> tuple[Extracted, Split]:
    """One document on the per-document path: an HTML page, or a text document with no content."""
    if doc["source_format"] == "html":
        found = html_extractor(doc["content"], params)
        ex = found if found is not None else Extracted("")
        return ex, textutil.split_paragraphs(ex.text)
    split = textutil.split_paragraphs(doc["content"])
    return Extracted(doc["content"], text_title(split[0], params)), split


@dataclass
class _Found:
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


def _documents_table(documents: pa.Table, found: _Found) -> pa.Table:
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
        "hostname": [(ex.hostname if ex else None) or _host(u) for u, ex in zip(urls, pages, strict=True)],
        "extracted_text": _extracted_text(rows.column("content"), pages)}
    columns = [rows.column(f.name) if f.name not in made
               else made[f.name] if isinstance(made[f.name], pa.ChunkedArray | pa.Array)
               else pa.array(made[f.name], f.type) for f in schema.DOCUMENTS]
    return pa.Table.from_arrays(columns, schema=schema.DOCUMENTS).combine_chunks()


def _extracted_text(content: pa.ChunkedArray, pages: list[Extracted | None]) -> pa.Array | pa.ChunkedArray:
    """The content of plain-text documents (`None` in `pages`), the extracted text of pages."""
    if not any(pages):
        return content
    texts = pa.array([ex.text if ex else None for ex in pages], pa.string())
    return pc.if_else(pa.array([ex is None for ex in pages]), content.combine_chunks(), texts)


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:  # a malformed URL (bad IPv6 literal, bad port) names no host
        return None


def _failure(doc: dict[str, Any], exc: Exception, params: ExtractParams) -> dict[str, Any]:
    """The reject for a page whose extraction failed, ran out of time, or killed its worker."""
    if isinstance(exc, timelimit.TimeLimitExceeded):
        code = "extract_timeout"
        what = f"extraction exceeded extract.timeout_seconds={params.timeout_seconds:g}"
    elif isinstance(exc, timelimit.WorkerCrashed):
        code, what = "extract_crashed", f"the extraction worker died on this page ({exc})"
    elif isinstance(exc, timelimit.CallFailed):
        code, what = "extract_error", str(exc)
    else:
        code, what = "extract_error", f"{type(exc).__name__}: {exc}"
    log.warning("extract failed on %s: %s", doc["doc_id"], what)
    return schema.reject_row(doc["source_path"], code, what, STAGE, doc["doc_id"], doc["source_sha256"],
                             doc.get("source_record"))


def limited_extractor(params: ExtractParams, html_extractor: Callable[[str, ExtractParams], Extracted | None]
                      = extract_html) -> timelimit.TimeLimited:
    """The HTML extractor under `extract.timeout_seconds`; reuse one across batches (one worker)."""
    return timelimit.TimeLimited(html_extractor, params.timeout_seconds)


def run(documents: pa.Table, params: ExtractParams,
        html_extractor: Callable[[str, ExtractParams], Extracted | None] = extract_html,
        progress: Callable[[int], None] | None = None) -> StageResult:
    """Extract every document; one with no text, whose extractor fails or overruns, becomes a reject.

    A plain extractor is run under `params.timeout_seconds` here; pass `limited_extractor(...)` to
    keep one worker across batches.
    """
    own = (None if isinstance(html_extractor, timelimit.TimeLimited)
           else limited_extractor(params, html_extractor))
    try:
        return _run(documents, params, own or html_extractor, progress)
    finally:
        if own is not None:
            own.close()


def _run(documents: pa.Table, params: ExtractParams,
         html_extractor: Callable[[str, ExtractParams], Extracted | None],
         progress: Callable[[int], None] | None) -> StageResult:
    found = _Found()
    plain = _plain_rows(documents)
    split = _split_plain(documents, plain, params, found)
    if progress is not None and len(plain):
        progress(len(plain))
    others = np.setdiff1d(np.arange(documents.num_rows), plain)
    _extract_each(documents, others, params, html_extractor, progress, found)
    rejects = found.reject_rows()
    rejects_t = pa.Table.from_pylist(rejects, schema=schema.REJECTS)
    paragraphs = _paragraphs_table(documents, plain, split, found)
    by_reason = dict(sorted(Counter(r["reason_code"] for r in rejects).items()))
    counters = {"documents_in": documents.num_rows, "documents": len(found.pages) + len(found.titles),
                "paragraphs": paragraphs.num_rows, "rejects": len(rejects), "rejects_by_reason": by_reason}
    return StageResult({"documents": _documents_table(documents, found), "paragraphs": paragraphs,
                        "rejects": rejects_t}, rejects_t, counters)


def _plain_rows(documents: pa.Table) -> np.ndarray:
    """The rows split in columns: text documents (not "html") that have content. The others (HTML
    pages, a null content, which fails as it always did) go one by one."""
    is_html = pc.fill_null(pc.equal(documents.column("source_format"), "html"), False)
    plain = pc.and_(pc.invert(is_html), pc.is_valid(documents.column("content")))
    return np.flatnonzero(plain.to_numpy())


def _split_plain(documents: pa.Table, plain: np.ndarray, params: ExtractParams,
                 found: _Found) -> text_split.SplitColumn | None:
    """The paragraphs of the plain-text rows, their titles (in `found`), and the blank ones rejected."""
    if not len(plain):
        return None
    content = documents.column("content")
    if len(plain) < documents.num_rows:
        content = content.take(pa.array(plain))
    split = text_split.split_column(content.combine_chunks())
    # text_title, over the columns.
    titles = split.first_match(params.title_search_lines, lambda para: _is_title(para, params))
    found.titles.update(zip(plain[list(titles)].tolist(), titles.values(), strict=True))
    blank = plain[split.counts == 0]
    for row, doc in zip(blank.tolist(), documents.take(pa.array(blank, pa.int64())).to_pylist(), strict=True):
        found.rejects.append((row, _no_text(doc)))
    return split


def _no_text(doc: dict[str, Any]) -> dict[str, Any]:
    what = "no main text found in the page" if doc["source_format"] == "html" else "no text"
    return schema.reject_row(doc["source_path"], "no_text_extracted", what, STAGE, doc["doc_id"],
                             doc["source_sha256"], doc.get("source_record"))


def _extract_each(documents: pa.Table, rows: np.ndarray, params: ExtractParams,
                  html_extractor: Callable[[str, ExtractParams], Extracted | None],
                  progress: Callable[[int], None] | None, found: _Found) -> None:
    """The per-document path: each of `rows` extracted alone, in order."""
    for row, doc in zip(rows.tolist(), documents.take(pa.array(rows, pa.int64())).to_pylist(), strict=True):
        if progress is not None:
            progress(1)
        try:
            ex, split = _extract_one(doc, params, html_extractor)
        except Exception as exc:  # one bad page must not stop the run
            found.rejects.append((row, _failure(doc, exc, params)))
            continue
        if not split[0]:
            found.rejects.append((row, _no_text(doc)))
        else:
            found.pages[row] = ex
            found.paras.add(doc["doc_id"], split, ex.blocks)
            found.para_rows += [row] * len(split[0])


def _paragraphs_table(documents: pa.Table, plain: np.ndarray, split: text_split.SplitColumn | None,
                      found: _Found) -> pa.Table:
    """Both paths' paragraphs in the input's order: documents in order, their paragraphs in order."""
    if split is None or not len(split.doc):
        return found.paras.table()
    n = len(split.doc)
    doc_rows = plain[split.doc]
    given = {"doc_id": documents.column("doc_id").take(pa.array(doc_rows)), "para_idx": split.para_idx,
             "text": split.text, "char_start": split.char_start, "char_end": split.char_end,
             "status": pa.repeat(pa.scalar(schema.KEPT), n)}
    table = pa.Table.from_arrays(
        [pa.array(given[f.name], f.type) if isinstance(given.get(f.name), np.ndarray)
         else given[f.name] if f.name in given else pa.nulls(n, f.type) for f in schema.PARAGRAPHS],
        schema=schema.PARAGRAPHS)
    if not found.para_rows:
        return table.combine_chunks()
    # Each part is in order, and no document is in both: a stable sort by row interleaves them.
    order = np.argsort(np.concatenate([doc_rows, found.para_rows]), kind="stable")
    return pa.concat_tables([table, found.paras.table()]).take(pa.array(order)).combine_chunks()
