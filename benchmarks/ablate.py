"""Ablation: the pipeline's score with each named rule switched off, one at a time.

    .venv/bin/python -m benchmarks.ablate --rules link_list_block_v1,trailing_teaser_block_v1 [--mode html]

Uses the raw folders a previous `python -m benchmarks.quality` run wrote.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import yaml

from benchmarks.quality import ROOT, SETS, load_set, run_pipeline, score


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rules", required=True, help="comma-separated rule ids; 'none' = baseline")
    ap.add_argument("--mode", default="html", help="html | text-resiliparse | text-trafilatura-recall")
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "data" / "bench")
    args = ap.parse_args()
    base = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    pages = {name: load_set(args.bench, name, None) for name in SETS}
    for rule in args.rules.split(","):
        params = dict(base)
        params["strip"] = {**base["strip"], "disabled_rules": [] if rule == "none" else [rule]}
        with tempfile.TemporaryDirectory() as tmp:
            ppath = Path(tmp) / "params.yaml"
            ppath.write_text(yaml.safe_dump(params), encoding="utf-8")
            for name in SETS:
                raw = args.work / name / ("raw-html" if args.mode == "html" else f"raw-{args.mode}")
                s = score(name, pages[name], run_pipeline(raw, Path(tmp) / name, ppath))
                print(f"{rule:28} {args.mode:24} {name:14} P {s['P']:.4f} R {s['R']:.4f} F1 {s['F1']:.4f}",
                      flush=True)


if __name__ == "__main__":
    main()
