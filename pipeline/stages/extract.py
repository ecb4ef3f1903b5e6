"""Extract: decoded documents to paragraphs with character offsets, plus document metadata."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import schema, textutil, timelimit
from pipeline.html_blocks import Block, blocks_of
from pipeline.params import ExtractParams
from pipeline.result import StageResult
from pipeline.stages import extract_rows, text_split
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


def _extract_one(doc: dict[str, Any], params: ExtractParams,
                 html_extractor: Callable[[str, ExtractParams], Extracted | None]) -> tuple[Extracted, Split]:
    """One document on the per-document path: an HTML page, or a text document with no content."""
    if doc["source_format"] == "html":
        found = html_extractor(doc["content"], params)
        ex = found if found is not None else Extracted("")
        return ex, textutil.split_paragraphs(ex.text)
    split = textutil.split_paragraphs(doc["content"])
    return Extracted(doc["content"], text_title(split[0], params)), split


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
    found = extract_rows.Found()
    plain = _plain_rows(documents)
    split = _split_plain(documents, plain, params, found)
    if progress is not None and len(plain):
        progress(len(plain))
    others = np.setdiff1d(np.arange(documents.num_rows), plain)
    _extract_each(documents, others, params, html_extractor, progress, found)
    rejects = found.reject_rows()
    rejects_t = pa.Table.from_pylist(rejects, schema=schema.REJECTS)
    paragraphs = extract_rows.paragraphs_table(documents, plain, split, found)
    by_reason = dict(sorted(Counter(r["reason_code"] for r in rejects).items()))
    counters = {"documents_in": documents.num_rows, "documents": len(found.pages) + len(found.titles),
                "paragraphs": paragraphs.num_rows, "rejects": len(rejects), "rejects_by_reason": by_reason}
    return StageResult({"documents": extract_rows.documents_table(documents, found), "paragraphs": paragraphs,
                        "rejects": rejects_t}, rejects_t, counters)


def _plain_rows(documents: pa.Table) -> np.ndarray:
    """The rows split in columns: text documents (not "html") that have content. The others (HTML
    pages, a null content, which fails as it always did) go one by one."""
    is_html = pc.fill_null(pc.equal(documents.column("source_format"), "html"), False)
    plain = pc.and_(pc.invert(is_html), pc.is_valid(documents.column("content")))
    return np.flatnonzero(plain.to_numpy())


def _split_plain(documents: pa.Table, plain: np.ndarray, params: ExtractParams,
                 found: extract_rows.Found) -> text_split.SplitColumn | None:
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
                  progress: Callable[[int], None] | None, found: extract_rows.Found) -> None:
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
