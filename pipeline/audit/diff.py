"""`pipeline diff`: a document's text before and after each stage, as a labelled unified diff.

ingest and extract change text, so their diffs are line diffs (difflib) of the raw file, the decoded
content and the extracted paragraphs. strip and dedup only mark paragraphs, so their diffs are exact:
the paragraphs a stage received, minus the ones it removed, each removed one followed by a `#` line
naming the stage, rule and reason (and for a copy the surviving `doc_id:para_idx` and similarity).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipeline.audit.load import DocRecord
from pipeline.audit.text import printable

STAGES = ("ingest", "extract", "strip", "dedup")
KEPT, REMOVED = "kept", "removed"
_COLOURS = {"title": "\x1b[1m", "file": "\x1b[1m", "hunk": "\x1b[36m", "-": "\x1b[31m",
            "+": "\x1b[32m", "note": "\x1b[33m"}
_RESET = "\x1b[0m"


@dataclass(frozen=True)
class Line:
    kind: str  # title | file | hunk | " " | "-" | "+" | note | info
    text: str


def cell(row: dict[str, Any], key: str) -> Any:
    v = row.get(key)
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def removal_label(row: dict[str, Any]) -> str:
    """stage, rule_id, reason, and for a copy the survivor and similarity: why this row went."""
    parts = [f"removed by {row['stage']}", f"rule {row['rule_id']}"]
    if (dup := cell(row, "dup_of")) is not None:
        parts.append(f"dup_of {dup}")
        if (sim := cell(row, "similarity")) is not None:
            parts.append(f"similarity {sim:.3f}")
        if (jac := cell(row, "jaccard")) is not None:
            parts.append(f"jaccard {jac:.3f}")
    if (reason := cell(row, "reason")) is not None:
        parts.append(f"reason: {reason}")
    return " | ".join(parts)


def _kept_note(row: dict[str, Any], stage: str) -> str | None:
    """Why a kept row deserves a look: flagged but kept by the strip guard, or contained in another."""
    if cell(row, "stage") == stage and (reason := cell(row, "reason")) is not None:
        return f"kept, flagged by {stage} rule {row['rule_id']} | {reason}"
    if stage == "dedup" and (box := cell(row, "contained_in")) is not None:
        return f"kept, contained in {box} (containment {row['containment']:.3f})"
    return None


def _hunk_ranges(changed: Sequence[int], n: int, context: int) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for i in changed:
        lo, hi = max(0, i - context), min(n, i + context + 1)
        if ranges and lo <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(hi, ranges[-1][1]))
        else:
            ranges.append((lo, hi))
    return ranges


def _hunk_header(lo: int, hi: int, kept: Sequence[bool]) -> Line:
    before_start, after_start = lo + 1, sum(kept[:lo]) + 1
    n_after = sum(kept[lo:hi])
    if n_after == 0:
        after_start -= 1  # unified-diff convention: an empty range names the line before it
    return Line("hunk", f"@@ -{before_start},{hi - lo} +{after_start},{n_after} @@")


def paragraph_diff(before: pd.DataFrame, after: pd.DataFrame, stage: str, context: int = 3) -> list[Line]:
    """Hunks over the paragraphs `before` kept: removed ones as `-` lines with a label under each."""
    rows = after.set_index("para_idx").loc[before["para_idx"]].reset_index().to_dict("records")
    kept = [r["status"] == KEPT for r in rows]
    notes = [None if k else removal_label(r) for k, r in zip(kept, rows, strict=True)]
    notes = [n or _kept_note(r, stage) for n, r in zip(notes, rows, strict=True)]
    changed = [i for i, n in enumerate(notes) if n is not None]
    lines: list[Line] = []
    for lo, hi in _hunk_ranges(changed, len(rows), context):
        lines.append(_hunk_header(lo, hi, kept))
        for i in range(lo, hi):
            lines.append(Line(" " if kept[i] else "-", printable(rows[i]["text"])))
            if notes[i] is not None:
                lines.append(Line("note", f"#   ^ paragraph {rows[i]['para_idx']}: {printable(notes[i])}"))
    return lines


def text_diff(before: list[str], after: list[str], context: int = 3) -> list[Line]:
    """A line diff by difflib, without its own file header lines (the caller writes them)."""
    out = []
    for line in list(difflib.unified_diff(before, after, n=context, lineterm=""))[2:]:
        kind = "hunk" if line.startswith("@@") else line[:1]
        out.append(Line(kind, line if kind == "hunk" else printable(line[1:])))
    return out


def _kept(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["status"] == KEPT]


def _nonblank(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _header(rec: DocRecord, stage: str, summary: str, before: str, after: str) -> list[Line]:
    return [Line("title", f"=== {stage}: {summary}"),
            Line("file", f"--- {printable(rec.doc_id)} {before}"),
            Line("file", f"+++ {printable(rec.doc_id)} {after}")]


def _rejected(rec: DocRecord, stage: str) -> list[Line]:
    return [Line("info", f"rejected at {stage}: {printable(r['reason'])}")
            for r in rec.rejects if r["stage"] == stage]


def ingest_diff(rec: DocRecord, context: int = 3) -> list[Line]:
    """Raw bytes (as UTF-8) against the decoded content: what decoding changed."""
    doc = rec.ingest
    if doc is None:
        return [Line("title", "=== ingest"), *_rejected(rec, "ingest")]
    gz = ", gzip" if doc.get("compression") else ""
    summary = (f"{printable(doc['source_path'])} ({doc['source_bytes']:,} bytes{gz}, {doc['source_format']}, "
               f"sha256 {doc['source_sha256'][:16]}...) decoded as {doc['encoding']}")
    lines = _header(rec, "ingest", summary, "raw file as UTF-8", "decoded content")
    if rec.raw_text is None:
        return [*lines, Line("info", f"(raw bytes not compared: {rec.raw_note})")]
    body = text_diff(rec.raw_text.splitlines(), doc["content"].splitlines(), context)
    return lines + (body or [Line("info", "(decoded content identical to the raw bytes read as UTF-8)")])


def extract_diff(rec: DocRecord, context: int = 3) -> list[Line]:
    """Decoded content (blank lines dropped) against the extracted paragraphs, one per line."""
    paras = rec.paragraphs["extract"]
    if rec.ingest is None:
        return [Line("title", "=== extract"), Line("info", "(not ingested)")]
    if paras is None:
        return [Line("title", "=== extract"), Line("info", "(no extract output: run `pipeline extract`)")]
    before = _nonblank(rec.ingest["content"])
    summary = (f"{len(before):,} non-blank lines of {rec.ingest['source_format']} in, "
               f"{len(paras):,} paragraphs out")
    lines = _header(rec, "extract", summary, "decoded content, non-blank lines", "extracted paragraphs")
    if rec.ingest["source_format"] == "html":
        # A line diff of markup against text is hundreds of `-` lines of tags: show what came out.
        body = [Line("hunk", f"@@ -1,{len(before)} +1,{len(paras)} @@"),
                Line("info", f"({len(before):,} lines of HTML markup not shown; see the raw file)"),
                *(Line("+", printable(t)) for t in paras["text"])]
    else:
        body = text_diff(before, list(paras["text"]), context)
    if not body and not paras.empty:
        body = [Line("info", "(the paragraphs are the content's non-blank lines, unchanged)")]
    return lines + body + _rejected(rec, "extract")


def marks_diff(rec: DocRecord, stage: str, previous: str, context: int = 3) -> list[Line]:
    """What a marking stage (strip, dedup) removed from the paragraphs its predecessor kept."""
    before, after = rec.paragraphs[previous], rec.paragraphs[stage]
    if before is None or after is None:
        return [Line("title", f"=== {stage}"), Line("info", f"(no {stage} output: run `pipeline {stage}`)")]
    before = _kept(before)
    n_kept = int((after.set_index("para_idx").loc[before["para_idx"], "status"] == KEPT).sum())
    summary = f"{len(before):,} paragraphs in, {n_kept:,} kept, {len(before) - n_kept:,} removed"
    lines = _header(rec, stage, summary, f"before {stage}", f"after {stage}")
    if before.empty:
        return [*lines, Line("info", "(no paragraph reached this stage)")]
    body = paragraph_diff(before, after, stage, context)
    return lines + (body or [Line("info", "(no paragraph removed or flagged)")])


def _export_line(rec: DocRecord) -> list[Line]:
    if rec.article is not None:
        return [Line("title", f"=== export: article with {rec.article['n_kept']:,} of "
                              f"{rec.article['n_paragraphs']:,} paragraphs")]
    return [Line("title", "=== export"), *_rejected(rec, "export")]


def document_diff(rec: DocRecord, stage: str = "all", context: int = 3) -> list[Line]:
    """One stage's diff, or (`all`) every stage's in pipeline order followed by the export outcome."""
    makers = {"ingest": lambda: ingest_diff(rec, context), "extract": lambda: extract_diff(rec, context),
              "strip": lambda: marks_diff(rec, "strip", "extract", context),
              "dedup": lambda: marks_diff(rec, "dedup", "strip", context)}
    if stage != "all":
        return makers[stage]()
    lines: list[Line] = []
    for name in STAGES:
        lines += makers[name]()
    return lines + _export_line(rec)


def render(lines: list[Line], colour: bool) -> str:
    """Plain text, or with ANSI colours (for a terminal): removed red, added green, labels yellow."""
    out = []
    for line in lines:
        text = line.text if line.kind in ("title", "file", "hunk", "note", "info") else line.kind + line.text
        out.append(f"{_COLOURS[line.kind]}{text}{_RESET}" if colour and line.kind in _COLOURS else text)
    return "\n".join(out) + "\n"
