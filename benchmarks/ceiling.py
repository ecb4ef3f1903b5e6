"""How far paragraph removal alone could go: oracle scores on a benchmark, from the gold itself.

    .venv/bin/python -m benchmarks.ceiling wcxb-articles text-resiliparse

Needs a previous `python -m benchmarks.quality` run (its work folder). The pipeline only keeps or
removes the paragraphs extraction (or the render) gave it, so its score is bounded by what an
oracle doing the same could reach. Each paragraph's share of words found in the page's gold text
decides for the oracle: "remove chrome below X" removes every kept paragraph under that share
(perfect chrome removal, at two strictness levels); "restore article text" puts back every
removed paragraph at or above 0.8 (no removal mistakes). Pages the extraction or render missed
stay missed: that part of the gap is extraction's, not cleaning's.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import pandas as pd

from benchmarks import scoring
from benchmarks.diagnose import in_gold
from benchmarks.quality import ROOT, SETS, page_id


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("set", choices=list(SETS))
    ap.add_argument("mode", help="html | text-resiliparse | text-trafilatura-recall")
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "data" / "bench")
    args = ap.parse_args()
    field = SETS[args.set]
    gold = json.loads((args.bench / args.set / "gold.json").read_text(encoding="utf-8"))
    paras = pd.read_parquet(args.work / args.set / f"out-{args.mode}" / "paragraphs.parquet",
                            columns=["doc_id", "para_idx", "text", "status"])
    paras["pid"] = paras.doc_id.map(page_id)
    paras = paras.sort_values(["pid", "para_idx"])
    gold_words = {k: scoring.words(v.get(field) or "") for k, v in gold.items()}
    paras["share"] = [in_gold(t, gold_words.get(p, Counter()))
                      for p, t in zip(paras.pid, paras.text, strict=True)]
    fn = scoring.scrapinghub if args.set == "scrapinghub" else scoring.wcxb
    pages = sorted(gold)

    def score(mask: pd.Series) -> str:
        text = paras[mask].groupby("pid").text.apply("\n".join)
        s = fn([(gold[i].get(field) or "", text.get(i, "")) for i in pages])
        return f"P {s.precision:.4f}  R {s.recall:.4f}  F1 {s.f1:.4f}"

    kept = paras.status == "kept"
    print(f"{args.set}, {args.mode}: {len(pages)} pages, {len(paras)} paragraphs")
    print(f"  pipeline as run                      {score(kept)}")
    print(f"  everything extraction gave           {score(paras.status.notna())}")
    for th in (0.2, 0.5):
        print(f"  oracle: remove chrome below {th:.1f}       {score(kept & (paras.share >= th))}")
    print(f"  oracle: restore article text         {score(kept | (paras.share >= 0.8))}")
    both = (kept & (paras.share >= 0.5)) | (paras.share >= 0.8)
    print(f"  oracle: both                         {score(both)}")


if __name__ == "__main__":
    main()
