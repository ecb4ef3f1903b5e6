"""How `pipeline report` scales: build time and page size for the sample run copied N times.

    .venv/bin/python -m benchmarks.report [--out clean] [--copies 10,100,1000] [--runs 3]

Reads a finished run (default clean/, from `make repro`), renames its documents `<doc_id>~<k>` for
k < N so the tables hold N times the sample (8 documents, 167 paragraphs each copy), and times
`build_report` on them (median of --runs), printing the HTML size. The report holds every paragraph,
so its size grows with the corpus.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from pipeline.audit.load import RunTables, load_run
from pipeline.audit.report_html import build_report


def _copies(run: RunTables, n: int) -> RunTables:
    def many(df: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
        parts = []
        for k in range(n):
            part = df.copy()
            for c in cols:
                part[c] = part[c].astype(str) + f"~{k}"
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    clusters = run.clusters.copy()
    clusters = pd.concat([clusters.assign(cluster_id=clusters.cluster_id + k * len(clusters))
                          for k in range(n)], ignore_index=True)
    return replace(run, articles=many(run.articles, ("doc_id",)),
                   paragraphs=many(run.paragraphs, ("doc_id",)),
                   rejects=many(run.rejects, ("doc_id", "source_path")), clusters=clusters)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("clean"))
    ap.add_argument("--copies", default="10,100,1000")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    base = load_run(args.out)
    print("| copies | documents | paragraphs | build_report median (s) | HTML size (MB) |")
    print("|---:|---:|---:|---:|---:|")
    for n in (int(c) for c in args.copies.split(",")):
        run = _copies(base, n)
        times, page = [], ""
        for _ in range(args.runs):
            start = time.perf_counter()
            page = build_report(run)
            times.append(time.perf_counter() - start)
        print(f"| {n:,} | {len(run.articles):,} | {len(run.paragraphs):,} | {statistics.median(times):.2f} "
              f"| {len(page.encode('utf-8')) / 1e6:.1f} |")


if __name__ == "__main__":
    main()
