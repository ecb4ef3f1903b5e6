"""Extract: decoded documents to paragraphs with character offsets, plus document metadata."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from pipeline import schema, textutil, timelimit
from pipeline.html_blocks import Block, blocks_of
from pipeline.params import ExtractParams
from pipeline.result import StageResult
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
        if textutil.is_headline_like(para, params.title_min_words, params.title_max_words):
            return para
    return None


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
    if doc["source_format"] == "html":
        found = html_extractor(doc["content"], params)
        ex = found if found is not None else Extracted("")
        return ex, textutil.split_paragraphs(ex.text)
    split = textutil.split_paragraphs(doc["content"])
    return Extracted(doc["content"], text_title(split[0], params)), split


def _documents_table(documents: pa.Table, kept: list[int], found: list[Extracted],
                     text_is_content: bool) -> pa.Table:
    """Rows `kept` of `documents` with what extraction `found` for each: the input's columns are
    taken whole (no dict per document); `text_is_content`: every extracted text is its document's
    content (plain text), so that column is taken too instead of being converted back."""
    idx = pa.array(kept, pa.int64())
    # A crawl record's URL names its host even when the page itself does not (site templates).
    urls = [u or ex.url for u, ex in zip(documents.column("url").take(idx).to_pylist(), found, strict=True)]
    made: dict[str, Any] = {
        "url": urls, "title": [ex.title for ex in found], "date": [ex.date for ex in found],
        "site": [ex.site for ex in found],
        "hostname": [ex.hostname or _host(u) for u, ex in zip(urls, found, strict=True)],
        "extracted_text": (documents.column("content").take(idx) if text_is_content
                           else [ex.text for ex in found])}
    columns = [documents.column(f.name).take(idx) if f.name not in made
               else made[f.name] if isinstance(made[f.name], pa.ChunkedArray)
               else pa.array(made[f.name], f.type) for f in schema.DOCUMENTS]
    return pa.Table.from_arrays(columns, schema=schema.DOCUMENTS).combine_chunks()


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
    kept: list[int] = []
    found: list[Extracted] = []
    text_is_content = True
    rejects: list[dict[str, Any]] = []
    paras = Paragraphs()
    for i, doc in enumerate(documents.to_pylist()):
        if progress is not None:
            progress(1)
        try:
            ex, split = _extract_one(doc, params, html_extractor)
        except Exception as exc:  # one bad page must not stop the run
            rejects.append(_failure(doc, exc, params))
            continue
        if not split[0]:
            what = "no main text found in the page" if doc["source_format"] == "html" else "no text"
            rejects.append(schema.reject_row(doc["source_path"], "no_text_extracted", what, STAGE,
                                             doc["doc_id"], doc["source_sha256"], doc.get("source_record")))
        else:
            kept.append(i)
            found.append(ex)
            text_is_content = text_is_content and ex.text is doc["content"]
            paras.add(doc["doc_id"], split, ex.blocks)
    rejects_t = pa.Table.from_pylist(rejects, schema=schema.REJECTS)
    by_reason = dict(sorted(Counter(r["reason_code"] for r in rejects).items()))
    counters = {"documents_in": documents.num_rows, "documents": len(kept),
                "paragraphs": len(paras.text), "rejects": len(rejects), "rejects_by_reason": by_reason}
    return StageResult({"documents": _documents_table(documents, kept, found, text_is_content),
                        "paragraphs": paras.table(),
                        "rejects": rejects_t}, rejects_t, counters)
