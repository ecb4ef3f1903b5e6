"""Where the pipeline gains and loses against a benchmark's gold, paragraph by paragraph.

    .venv/bin/python -m benchmarks.diagnose scrapinghub html [--show 30]

Needs a previous `python -m benchmarks.quality` run (its work folder). For each paragraph, the
share of its words found in the page's gold text says whether it is article text (>= 0.8) or
chrome (< 0.2): removed article text (by rule) and kept chrome (by shape) are listed.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import pandas as pd

from benchmarks.quality import ROOT, SETS, page_id
from benchmarks.scoring import words


def in_gold(text: str, gold: Counter) -> float:
    w = words(text)
    total = sum(w.values())
    return sum((w & gold).values()) / total if total else 1.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("set", choices=list(SETS))
    ap.add_argument("mode", help="html | text-resiliparse | text-trafilatura-recall")
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "data" / "bench")
    ap.add_argument("--show", type=int, default=40)
    args = ap.parse_args()
    gold = json.loads((args.bench / args.set / "gold.json").read_text(encoding="utf-8"))
    paras = pd.read_parquet(args.work / args.set / f"out-{args.mode}" / "paragraphs.parquet")
    paras["doc_id"] = paras.doc_id.map(page_id)
    gold_words = {k: words(v.get(SETS[args.set]) or "") for k, v in gold.items()}
    paras["in_gold"] = [in_gold(t, gold_words.get(d, Counter()))
                        for d, t in zip(paras.doc_id, paras.text, strict=True)]
    paras["n_words"] = paras.text.str.split().str.len()
    removed = paras[paras.status == "removed"]
    bad = removed[removed.in_gold >= 0.8]
    print(f"removed paragraphs: {len(removed)}, of which article text: {len(bad)} "
          f"({bad.n_words.sum()} words)")
    print(bad.groupby("rule_id").n_words.agg(["count", "sum"]).sort_values("sum", ascending=False))
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 120)
    cols = ["doc_id", "rule_id", "n_words", "text"]
    print(bad.sort_values("n_words", ascending=False)[cols].head(args.show))
    kept = paras[(paras.status == "kept") & (paras.in_gold < 0.2)]
    print(f"\nkept chrome paragraphs: {len(kept)} ({kept.n_words.sum()} words)")
    print(kept.sort_values("n_words", ascending=False)[["doc_id", "para_idx", "n_words", "text"]]
          .head(args.show).to_string())


if __name__ == "__main__":
    main()
