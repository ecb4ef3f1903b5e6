"""`pipeline report`: what a whole run removed, counted per stage and per rule, as pure aggregations.

The figures come from the final tables only (articles, paragraphs, rejects, dup_clusters), so the
report and `paragraphs.parquet` cannot disagree. `report_html` turns them into one HTML page.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.audit.load import RunTables

STAGE_ORDER = {"ingest": 0, "extract": 1, "strip": 2, "dedup": 3, "export": 4}


@dataclass(frozen=True)
class StageTotal:
    stage: str
    unit: str      # what is counted: files, documents, paragraphs
    n_in: int
    n_kept: int
    n_removed: int  # removed paragraphs, or rejected files/documents


@dataclass(frozen=True)
class RemovedText:
    rule_id: str
    text: str
    count: int
    documents: list[str]  # doc_ids it was removed from, sorted


def stage_totals(run: RunTables) -> list[StageTotal]:
    """Files through ingest, documents through extract and export, paragraphs through strip and dedup."""
    rej = run.rejects["stage"].value_counts()
    paras = run.paragraphs
    removed = paras[paras["status"] == "removed"]["stage"].value_counts()
    n_files = len(run.articles) + len(run.rejects)
    n_docs = n_files - int(rej.get("ingest", 0))
    n_extracted = n_docs - int(rej.get("extract", 0))
    n_strip = int(removed.get("strip", 0))
    n_dedup = int(removed.get("dedup", 0))
    return [
        StageTotal("ingest", "inputs", n_files, n_docs, n_files - n_docs),
        StageTotal("extract", "documents", n_docs, n_extracted, n_docs - n_extracted),
        StageTotal("strip", "paragraphs", len(paras), len(paras) - n_strip, n_strip),
        StageTotal("dedup", "paragraphs", len(paras) - n_strip, len(paras) - n_strip - n_dedup, n_dedup),
        StageTotal("export", "documents", n_extracted, len(run.articles), n_extracted - len(run.articles)),
    ]


def rule_counts(paragraphs: pd.DataFrame) -> pd.DataFrame:
    """Removed paragraphs per (stage, rule_id): stages in pipeline order, then most frequent first."""
    removed = paragraphs[paragraphs["status"] == "removed"]
    counts = removed.groupby(["stage", "rule_id"]).size().rename("removed").reset_index()
    counts["order"] = counts["stage"].map(STAGE_ORDER)
    counts = counts.sort_values(["order", "removed", "rule_id"], ascending=[True, False, True])
    return counts.drop(columns="order").reset_index(drop=True)


def reject_counts(rejects: pd.DataFrame) -> pd.DataFrame:
    counts = rejects.groupby(["stage", "reason_code"]).size().rename("rejected").reset_index()
    return counts.sort_values(["rejected", "stage", "reason_code"], ascending=[False, True, True],
                              ignore_index=True)


def removals_by_rule_csv(paragraphs: pd.DataFrame) -> str:
    """The DVC plot's data: one row per rule, `stage,rule_id,removed`."""
    return rule_counts(paragraphs).to_csv(index=False, lineterminator="\n")


def top_removed_texts(paragraphs: pd.DataFrame, per_rule: int = 5) -> dict[str, list[RemovedText]]:
    """The texts each rule removed most often (exact text), with the documents they came from."""
    removed = paragraphs[paragraphs["status"] == "removed"]
    out: dict[str, list[RemovedText]] = {}
    for rule_id, group in removed.groupby("rule_id", sort=True):
        docs = group.groupby("text")["doc_id"].agg(lambda s: sorted(set(s)))
        sizes = group.groupby("text").size()
        ranked = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:per_rule]
        out[str(rule_id)] = [RemovedText(str(rule_id), t, int(n), docs[t]) for t, n in ranked]
    return out


def run_identity(articles: pd.DataFrame) -> dict[str, str]:
    """pipeline_version, params_hash and rules_hash of the run (joined if articles disagree)."""
    cols = ("pipeline_version", "params_hash", "rules_hash")
    return {c: ", ".join(sorted(set(articles[c].dropna()))) or "-" for c in cols if c in articles}
