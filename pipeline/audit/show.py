"""`pipeline show`: a document's clean text with its provenance and what each stage did to it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pipeline.audit.diff import KEPT, REMOVED, cell
from pipeline.audit.load import DocRecord
from pipeline.audit.text import printable

_PROVENANCE = ("source_path", "source_sha256", "source_bytes", "source_format", "compression",
               "encoding", "url", "title", "date", "site")
_RECORD = ("source_record", "source_date")
_RUN = ("pipeline_version", "params_hash", "rules_hash")
_WIDTH = max(len(f) for f in (*_PROVENANCE, *_RUN))


def _field_lines(fields: tuple[str, ...], row: dict[str, Any]) -> list[str]:
    out = []
    for f in fields:
        v = cell(row, f)
        out.append(f"{f:<{_WIDTH}}  {'-' if v is None else printable(str(v))}")
    return out


def _by_rule(rules: Counter) -> str:
    return ", ".join(f"{rule} {n}" for rule, n in sorted(rules.items(), key=lambda kv: (-kv[1], kv[0])))


def stage_counts(rec: DocRecord) -> list[str]:
    """One line per stage: what came in, what it removed (by rule), what it passed on."""
    ing = rec.ingest
    lines = [f"ingest   {'decoded as ' + ing['encoding'] if ing else 'rejected'}"]
    extract = rec.paragraphs.get("extract")
    n_in = 0 if extract is None else len(extract)
    lines.append(f"extract  {n_in:,} paragraphs")
    for stage, prev in (("strip", "extract"), ("dedup", "strip")):
        before, after = rec.paragraphs.get(prev), rec.paragraphs.get(stage)
        if before is None or after is None:
            lines.append(f"{stage:<8} not run")
            continue
        n_in = int((before["status"] == KEPT).sum())
        gone = after[(after["status"] == REMOVED) & (after["stage"] == stage)]
        flagged = int(((after["status"] == KEPT) & (after["stage"] == stage)).sum())
        line = f"{stage:<8} {n_in:,} in, {len(gone):,} removed, {n_in - len(gone):,} kept"
        if len(gone):
            line += f" ({_by_rule(Counter(gone['rule_id']))})"
        if flagged:
            line += f"; {flagged:,} flagged but kept by the guard"
        lines.append(line)
    art = rec.article
    lines.append(f"export   article, {art['n_kept']:,} paragraphs" if art else "export   rejected")
    return lines


def render_show(rec: DocRecord) -> str:
    """Provenance, per-stage counts, rejects if any, then the clean text as the article holds it."""
    source = rec.article or rec.document or rec.ingest or (rec.rejects[0] if rec.rejects else {})
    out = [f"{'doc_id':<{_WIDTH}}  {printable(rec.doc_id)}", *_field_lines(_PROVENANCE, source)]
    if cell(source, "source_record") is not None:  # a record of a WARC, JSONL or Parquet file
        out[2:2] = _field_lines(_RECORD, source)
    if rec.article is not None:
        out += _field_lines(_RUN, rec.article)
    out += ["", "stages", *("  " + line for line in stage_counts(rec))]
    for r in rec.rejects:
        out.append(f"  rejected at {r['stage']}: {printable(r['reason'])}")
    if rec.article is not None:
        paras = rec.article["text"].split("\n\n")
        out += ["", f"clean text ({len(rec.article['text']):,} characters, {len(paras):,} paragraphs)", ""]
        out += [printable(p) + "\n" for p in paras]
    return "\n".join(out).rstrip("\n") + "\n"
