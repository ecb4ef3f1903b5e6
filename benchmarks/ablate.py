"""Ablation: the pipeline's score with each named rule switched off, or a param changed, one at a time.

    .venv/bin/python -m benchmarks.ablate --rules link_list_block_v1,trailing_teaser_block_v1 [--mode html]
    .venv/bin/python -m benchmarks.ablate --set "dedup.min_words=4;dedup.scope=across_documents"

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
    ap.add_argument("--rules", default="", help="comma-separated rule ids; 'none' = baseline")
    ap.add_argument("--set", default="", help="';'-separated variants, each 'section.key=yaml value'")
    ap.add_argument("--mode", default="html", help="html | text-resiliparse | text-trafilatura-recall")
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "data" / "bench")
    args = ap.parse_args()
    base = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    pages = {name: load_set(args.bench, name, None) for name in SETS}
    variants = [(r, {"strip.disabled_rules": [] if r == "none" else [r]}) for r in args.rules.split(",") if r]
    for item in (v for v in args.set.split(";") if v):
        key, value = item.split("=", 1)
        variants.append((item, {key: yaml.safe_load(value)}))
    for label, overrides in variants:
        params = {k: dict(v) for k, v in base.items()}
        for key, value in overrides.items():
            section, name = key.split(".", 1)
            params[section][name] = value
        with tempfile.TemporaryDirectory() as tmp:
            ppath = Path(tmp) / "params.yaml"
            ppath.write_text(yaml.safe_dump(params), encoding="utf-8")
            for name in SETS:
                raw = args.work / name / ("raw-html" if args.mode == "html" else f"raw-{args.mode}")
                s = score(name, pages[name], run_pipeline(raw, Path(tmp) / name, ppath))
                print(f"{label:28} {args.mode:24} {name:14} P {s['P']:.4f} R {s['R']:.4f} F1 {s['F1']:.4f}",
                      flush=True)


if __name__ == "__main__":
    main()
