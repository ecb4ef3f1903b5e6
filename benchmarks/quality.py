"""Cleaning quality on the development benchmarks, scored with each benchmark's own metric.

    .venv/bin/pip install -e '.[bench]'      # resiliparse, for the text-mode render
    .venv/bin/python -m benchmarks.quality [--bench ../shared/data/bench] [--limit N]

Runs `pipeline run` on each set in two modes and prints one table (also written to
benchmarks/results/quality.md):
- HTML: the pages as fetched; compared with trafilatura alone (include_comments=False).
- text: each page rendered to plain text with chrome left in (resiliparse main_content=True, and
  trafilatura favor_recall=True, include_comments=True), run through the pipeline as .txt files;
  compared with the render alone.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from benchmarks import scoring

ROOT = Path(__file__).resolve().parent.parent
SETS = {"scrapinghub": "articleBody", "wcxb-articles": "main_content"}


def load_set(bench: Path, name: str, limit: int | None) -> dict[str, tuple[bytes, dict]]:
    gold = json.loads((bench / name / "gold.json").read_text(encoding="utf-8"))
    ids = sorted(gold)[:limit] if limit else sorted(gold)
    return {i: (gzip.decompress((bench / name / "html" / f"{i}.html.gz").read_bytes()), gold[i]) for i in ids}


def render_resiliparse(html: bytes) -> str:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding
    from resiliparse.parse.html import HTMLTree

    return extract_plain_text(HTMLTree.parse(bytes_to_str(html, detect_encoding(html))), main_content=True)


def render_trafilatura_recall(html: bytes) -> str:
    import trafilatura

    return trafilatura.extract(html, favor_recall=True, include_comments=True, deduplicate=False) or ""


def trafilatura_alone(html: bytes) -> str:
    import trafilatura

    return trafilatura.extract(html, include_comments=False, deduplicate=False) or ""


def page_id(doc_id: str) -> str:
    return doc_id.rsplit("/", 1)[-1]


def write_raw(pages: dict[str, tuple[bytes, dict]], raw: Path, suffix: str,
              render: Callable[[bytes], str] | None) -> dict[str, str]:
    """Write one raw file per page (the HTML, or its render); returns the render per id.

    Renders go in one folder per host, as a crawl's text dump keeps its sources apart: plain
    text has no URL, so the folder is what tells the pipeline which pages share a site.
    """
    rendered = {}
    for pid, (html, gold) in pages.items():
        host = urlsplit(gold.get("url") or "").hostname or "unknown-host"
        path = raw / f"{pid}{suffix}" if render is None else raw / host / f"{pid}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if render is None:
            path.write_bytes(html)
            continue
        if not path.exists():
            path.write_text(render(html), encoding="utf-8")
        rendered[pid] = path.read_text(encoding="utf-8")
    return rendered


def run_pipeline(raw: Path, out: Path, params: Path) -> dict[str, str]:
    cmd = [sys.executable, "-m", "pipeline", "-q", "run", str(raw), "--out", str(out),
           "--params", str(params)]
    subprocess.run(cmd, check=True)
    arts = pd.read_parquet(out / "articles.parquet", columns=["doc_id", "text"])
    return {page_id(d): t for d, t in zip(arts.doc_id, arts.text, strict=True)}


def score(name: str, pages: dict[str, tuple[bytes, dict]], preds: dict[str, str]) -> dict[str, float]:
    field = SETS[name]
    pairs = [(g.get(field) or "", preds.get(pid, "")) for pid, (_, g) in pages.items()]
    s = scoring.scrapinghub(pairs) if name == "scrapinghub" else scoring.wcxb(pairs)
    row = {"P": s.precision, "R": s.recall, "F1": s.f1, "pages": s.pages}
    if name == "wcxb-articles":
        with_, without = scoring.snippet_rates(
            (g.get("with", []), g.get("without", []), preds.get(pid, "")) for pid, (_, g) in pages.items())
        row.update({"with found": with_, "without leaked": without})
    return row


def evaluate_set(name: str, pages: dict, work: Path, params: Path, modes: set[str]) -> list[dict]:
    rows = []
    base = work / name
    if "html" in modes:
        write_raw(pages, base / "raw-html", ".html", None)
        pipe = run_pipeline(base / "raw-html", base / "out-html", params)
        alone = {pid: trafilatura_alone(html) for pid, (html, _) in pages.items()}
        rows.append({"mode": "html", "set": name, "system": "trafilatura alone", **score(name, pages, alone)})
        rows.append({"mode": "html", "set": name, "system": "pipeline", **score(name, pages, pipe)})
    renders = (("resiliparse", render_resiliparse), ("trafilatura recall", render_trafilatura_recall))
    for label, render in (r for r in renders if r[0] in modes):
        raw = base / f"raw-text-{label.replace(' ', '-')}"
        rendered = write_raw(pages, raw, ".txt", render)
        pipe = run_pipeline(raw, base / f"out-text-{label.replace(' ', '-')}", params)
        rows.append({"mode": f"text ({label})", "set": name, "system": "render alone",
                     **score(name, pages, rendered)})
        rows.append({"mode": f"text ({label})", "set": name, "system": "pipeline",
                     **score(name, pages, pipe)})
    return rows


def to_markdown(rows: list[dict]) -> str:
    cols = ["mode", "set", "system", "P", "R", "F1", "with found", "without leaked", "pages"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = [f"{r[c]:.4f}" if isinstance(r.get(c), float) else str(r.get(c, "")) for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "data" / "bench")
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--limit", type=int, default=None, help="first N pages of each set (for a quick look)")
    ap.add_argument("--modes", default="html,resiliparse,trafilatura recall",
                    help="comma-separated subset of: html, resiliparse, trafilatura recall")
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    ap.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "quality.md")
    args = ap.parse_args()
    rows = []
    for name in args.sets.split(","):
        rows.extend(evaluate_set(name, load_set(args.bench, name, args.limit), args.work, args.params,
                                 set(args.modes.split(","))))
    table = to_markdown(rows)
    print(table)
    if args.limit is None and args.modes == ap.get_default("modes"):
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text("# Cleaning quality on the development sets\n\n"
                                "`python -m benchmarks.quality` (one run; per-page figures, macro-averaged)"
                                "\n\n"
                                + table, encoding="utf-8")


if __name__ == "__main__":
    main()
