"""The run report as one self-contained HTML page: every scraped string is escaped, nothing is fetched."""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from pipeline.audit import report as agg
from pipeline.audit.load import RunTables
from pipeline.audit.report_assets import CSP, CSS, JS

MAX_DOCS_PER_TEXT = 12
MAX_CLUSTERS = 500
_TEXTS_HEAD = ('<colgroup><col style="width:70px"><col><col style="width:28%"></colgroup>'
               "<tr><th>times</th><th>removed text</th><th>documents</th></tr>")


def e(value: Any) -> str:
    """Escape for text and attribute values alike (quotes too): scraped text is hostile."""
    return escape("" if value is None else str(value), quote=True)


def _n(value: int) -> str:
    return f"{value:,}"


def _bar(parts: list[tuple[str, float]]) -> str:
    spans = "".join(f'<span class="{cls}" style="width:{100 * share:.1f}%"></span>' for cls, share in parts)
    return f'<div class="bar">{spans}</div>'


def _stage_table(totals: list[agg.StageTotal]) -> str:
    rows = []
    for t in totals:
        share = t.n_kept / t.n_in if t.n_in else 0.0
        rows.append(
            f'<tr id="stage-{t.stage}"><td>{t.stage}</td><td>{t.unit}</td>'
            f'<td class="n" data-k="in">{_n(t.n_in)}</td><td class="n" data-k="kept">{_n(t.n_kept)}</td>'
            f'<td class="n" data-k="removed">{_n(t.n_removed)}</td><td class="n">{share:.1%}</td>'
            f'<td class="barcell">{_bar([("k", share), ("r", 1 - share if t.n_in else 0)])}</td></tr>')
    head = ("<tr><th>stage</th><th>unit</th><th>in</th><th>kept</th><th>removed or rejected</th>"
            "<th>kept %</th><th>kept (green) / removed (red)</th></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _rule_table(counts: pd.DataFrame) -> str:
    if counts.empty:
        return '<p class="muted">No paragraph was removed.</p>'
    top = int(counts["removed"].max())
    rows = [f'<tr id="rule-{e(r.rule_id)}"><td>{e(r.stage)}</td><td><a href="#texts-{e(r.rule_id)}">'
            f'<code>{e(r.rule_id)}</code></a></td><td class="n" data-k="removed">{_n(r.removed)}</td>'
            f'<td class="barcell">{_bar([("x", r.removed / top)])}</td></tr>'
            for r in counts.itertuples()]
    return ("<table><tr><th>stage</th><th>rule_id</th><th>paragraphs removed</th><th></th></tr>"
            f"{''.join(rows)}</table>")


def _reject_table(counts: pd.DataFrame) -> str:
    if counts.empty:
        return '<p class="muted">No file or document was rejected.</p>'
    rows = [f"<tr><td>{e(r.stage)}</td><td><code>{e(r.reason_code)}</code></td>"
            f'<td class="n">{_n(r.rejected)}</td></tr>' for r in counts.itertuples()]
    return f"<table><tr><th>stage</th><th>reason_code</th><th>rejected</th></tr>{''.join(rows)}</table>"


def _doc_links(doc_ids: list[str], anchors: dict[str, str]) -> str:
    shown = ", ".join(f'<a href="#{anchors[d]}">{e(d)}</a>' if d in anchors else e(d)
                      for d in doc_ids[:MAX_DOCS_PER_TEXT])
    more = len(doc_ids) - MAX_DOCS_PER_TEXT
    return shown + (f" and {_n(more)} more" if more > 0 else "")


def _top_texts(top: dict[str, list[agg.RemovedText]], anchors: dict[str, str]) -> str:
    parts = []
    for rule_id, items in top.items():
        rows = [f'<tr><td class="n">{_n(t.count)}</td><td>{e(t.text)}</td>'
                f'<td class="mono">{_doc_links(t.documents, anchors)}</td></tr>' for t in items]
        parts.append(f'<h3 id="texts-{e(rule_id)}"><code>{e(rule_id)}</code></h3><table class="texts">'
                     f"{_TEXTS_HEAD}{''.join(rows)}</table>")
    return "".join(parts) or '<p class="muted">No paragraph was removed.</p>'


def _clusters(clusters: pd.DataFrame, texts: dict[str, str], anchors: dict[str, str]) -> str:
    if clusters.empty:
        return '<p class="muted">No duplicate paragraphs.</p>'
    ranked = clusters.sort_values(["size", "cluster_id"], ascending=[False, True]).head(MAX_CLUSTERS)
    rows = []
    for c in ranked.itertuples():
        members = "<br>".join(f'<a href="#{anchors.get(m.rsplit(":", 1)[0], "")}">{e(m)}</a>'
                              + (" (survivor)" if m == c.survivor else "") for m in c.members)
        rows.append(f'<tr id="cluster-{c.cluster_id}"><td class="n">{c.cluster_id}</td>'
                    f'<td class="n">{c.size}</td><td class="n">{c.n_documents}</td>'
                    f'<td class="mono">{members}</td><td>{e(texts.get(c.survivor, ""))}</td></tr>')
    more = len(clusters) - len(ranked)
    note = f'<p class="muted">{_n(more)} smaller clusters are in dup_clusters.parquet.</p>' if more else ""
    return ("<table><tr><th>cluster</th><th>size</th><th>documents</th><th>members (doc_id:para_idx)</th>"
            f"<th>survivor text</th></tr>{''.join(rows)}</table>{note}")


def _para(row: dict[str, Any], grid_row: int) -> str:
    from pipeline.audit.diff import cell, removal_label

    idx = f'<span class="idx">{row["para_idx"]}</span>'
    style = f' style="grid-row:{grid_row}"'
    if row["status"] == "removed":
        return (f'<div class="p removed"{style}>{idx}<del>{e(row["text"])}</del>'
                f'<span class="label">{e(removal_label(row))}</span></div>')
    notes = []
    if cell(row, "stage") is not None:
        notes.append(f"flagged by {row['stage']} rule {row['rule_id']}, kept: {row['reason']}")
    if (box := cell(row, "contained_in")) is not None:
        notes.append(f"contained in {box} (containment {row['containment']:.3f}), kept")
    tail = "".join(f'<span class="note">{e(n)}</span>' for n in notes)
    return f'<div class="p kept"{style}>{idx}{e(row["text"])}{tail}</div>'


def _doc_section(doc_id: str, anchor: str, meta: dict[str, Any], paras: list[dict[str, Any]],
                 rejects: list[dict[str, Any]]) -> str:
    n_removed = sum(p["status"] == "removed" for p in paras)
    facts = " · ".join(e(meta[k]) for k in ("source_path", "url") if meta.get(k))
    head = (f'<h3>{e(doc_id)}</h3><div>{e(meta.get("title") or "")}</div>'
            f'<div class="muted">{facts} · {_n(len(paras))} paragraphs, {_n(len(paras) - n_removed)} kept, '
            f"{_n(n_removed)} removed</div>")
    rej = "".join(f'<div class="reject">rejected at {e(r["stage"])}: {e(r["reason"])}</div>' for r in rejects)
    grid = ""
    if paras:
        cells = "".join(_para(p, i + 2) for i, p in enumerate(paras))
        grid = (f'<div class="grid"><div class="colhead" style="grid-row:1;grid-column:1">kept</div>'
                f'<div class="colhead" style="grid-row:1;grid-column:2">removed</div>{cells}</div>')
    return f'<section class="doc" id="{anchor}" data-doc="{e(doc_id)}">{head}{rej}{grid}</section>'


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return df.astype(object).where(df.notna(), None).to_dict("records")


def _documents(run: RunTables, anchors: dict[str, str]) -> str:
    paras: dict[str, list[dict[str, Any]]] = {}
    # One conversion of the whole table, then a plain group-by: per-document frames cost 10x more.
    for row in _records(run.paragraphs.sort_values(["doc_id", "para_idx"])):
        paras.setdefault(row["doc_id"], []).append(row)
    meta = {r["doc_id"]: r for r in _records(run.articles)}
    rejects: dict[str, list[dict[str, Any]]] = {}
    for r in _records(run.rejects):
        rejects.setdefault(r["doc_id"] or r["source_path"], []).append(r)
        meta.setdefault(r["doc_id"] or r["source_path"], r)
    return "".join(_doc_section(d, a, meta.get(d, {}), paras.get(d, []), rejects.get(d, []))
                   for d, a in anchors.items())


def _anchors(run: RunTables) -> dict[str, str]:
    ids = set(run.paragraphs["doc_id"]) | set(run.articles["doc_id"])
    ids |= {r["doc_id"] or r["source_path"] for r in _records(run.rejects)}
    return {d: f"d{i}" for i, d in enumerate(sorted(ids))}


def build_report(run: RunTables) -> str:
    """The whole page: totals, per-rule chart, frequent removed texts, clusters, every document."""
    anchors = _anchors(run)
    texts = {f"{r['doc_id']}:{r['para_idx']}": r["text"]
             for r in run.paragraphs[["doc_id", "para_idx", "text"]].to_dict("records")}
    ident = " · ".join(f"{k} <code>{e(v)}</code>" for k, v in agg.run_identity(run.articles).items())
    toc = "".join(f'<a href="#{a}">{e(d)}</a>' for d, a in anchors.items())
    body = (
        f"<header><h1>Cleaning report</h1><div class=\"muted\">{ident}</div></header><main>"
        f"<h2>Totals per stage</h2>{_stage_table(agg.stage_totals(run))}"
        f"<h2>Paragraphs removed per rule</h2>{_rule_table(agg.rule_counts(run.paragraphs))}"
        f"<h2>Rejected files and documents</h2>{_reject_table(agg.reject_counts(run.rejects))}"
        f"<h2>Most frequent removed texts per rule</h2>"
        f"{_top_texts(agg.top_removed_texts(run.paragraphs), anchors)}"
        f"<h2>Duplicate clusters</h2>{_clusters(run.clusters, texts, anchors)}"
        f'<h2 id="documents">Documents</h2><div class="filter"><input id="q" type="search" '
        f'placeholder="filter by document id or text" aria-label="filter documents"> '
        f'<span class="muted"><span id="shown">{len(anchors)}</span> of {len(anchors)} documents shown'
        f'</span></div><nav class="toc">{toc}</nav>{_documents(run, anchors)}</main>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Cleaning report</title><style>{CSS}</style></head><body>{body}"
            f"<script>{JS}</script></body></html>\n")
