"""Score each stage's view of a quality run, to see which stage gains or loses what.

    .venv/bin/python -m benchmarks.stage_scores [--sets ...] [--modes html,text-resiliparse]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from benchmarks.quality import ROOT, SETS, load_set, page_id, score


def stage_texts(out: Path, stage: str) -> dict[str, str]:
    paras = pd.read_parquet(out / "stages" / stage / "paragraphs.parquet",
                            columns=["doc_id", "para_idx", "text", "status"])
    kept = paras[paras.status == "kept"].sort_values(["doc_id", "para_idx"])
    return {page_id(d): "\n\n".join(g.text) for d, g in kept.groupby("doc_id")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--modes", default="html,text-resiliparse,text-trafilatura-recall")
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "data" / "bench")
    args = ap.parse_args()
    for name in args.sets.split(","):
        pages = load_set(args.bench, name, None)
        for mode in args.modes.split(","):
            for stage in ("extract", "strip", "dedup"):
                s = score(name, pages, stage_texts(args.work / name / f"out-{mode}", stage))
                print(f"{name:14} {mode:24} {stage:8} P {s['P']:.4f} R {s['R']:.4f} F1 {s['F1']:.4f}")


if __name__ == "__main__":
    main()
