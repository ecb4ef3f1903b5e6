"""What each removal rule is worth on a benchmark: its pages re-scored with its removals put back.

    .venv/bin/python -m benchmarks.margins wcxb-articles text-resiliparse [--sort dR]

Needs a previous `python -m benchmarks.quality` run (its work folder). For every rule id (and
the dedup rules), the pages it touched are scored twice, with the paragraphs it removed and
without them; the differences are scaled to the whole set, so dP, dR and dF are what the rule
adds to the set's macro-averaged precision, recall and F1 (negative dR: the article text it
costs). Cheaper and finer than `benchmarks.ablate`, which re-runs the pipeline, but it ignores
interactions: a paragraph put back cannot be claimed by another rule.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from benchmarks import scoring
from benchmarks.quality import ROOT, SETS, page_id


def _scorer(name: str, gold: dict, field: str):
    fn = scoring.scrapinghub if name == "scrapinghub" else scoring.wcxb

    def score(paras: pd.DataFrame, pages: list[str]) -> scoring.Score:
        text = paras.groupby("pid").text.apply("\n".join)
        return fn([(gold[i].get(field) or "", text.get(i, "")) for i in pages])
    return score


def margins(paras: pd.DataFrame, gold: dict, name: str) -> pd.DataFrame:
    score = _scorer(name, gold, SETS[name])
    kept = paras.status == "kept"
    rows = []
    for rule, group in paras[paras.status == "removed"].groupby("rule_id"):
        pages = sorted(set(group.pid))
        sub = paras[paras.pid.isin(pages)]
        without = score(sub[sub.status == "kept"], pages)
        with_back = score(sub[(sub.status == "kept") | (sub.rule_id == rule)], pages)
        share = len(pages) / len(gold)
        rows.append({"rule": rule, "removed": len(group), "pages": len(pages),
                     "dP": (without.precision - with_back.precision) * share,
                     "dR": (without.recall - with_back.recall) * share,
                     "dF": (without.f1 - with_back.f1) * share})
    base = score(paras[kept], sorted(gold))
    print(f"set score: P {base.precision:.4f} R {base.recall:.4f} F1 {base.f1:.4f}")
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("set", choices=list(SETS))
    ap.add_argument("mode", help="html | text-resiliparse | text-trafilatura-recall")
    ap.add_argument("--sort", default="dF", choices=["dP", "dR", "dF", "removed"])
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "data" / "bench")
    args = ap.parse_args()
    gold = json.loads((args.bench / args.set / "gold.json").read_text(encoding="utf-8"))
    paras = pd.read_parquet(args.work / args.set / f"out-{args.mode}" / "paragraphs.parquet",
                            columns=["doc_id", "para_idx", "text", "status", "rule_id"])
    paras["pid"] = paras.doc_id.map(page_id)
    paras = paras.sort_values(["pid", "para_idx"])
    table = margins(paras, gold, args.set).sort_values(args.sort)
    print(table.round(5).to_string(index=False))


if __name__ == "__main__":
    main()
