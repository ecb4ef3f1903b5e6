"""The whole pipeline at corpus scale: throughput per stage, peak memory, and how it grows.

    .venv/bin/python -m benchmarks.load [--sizes 10000,30000,100000] [--html-share 0.1]
                                        [--work /tmp/load] [--write]

Generates one corpus per size (same seed, so the smaller corpora are prefixes in spirit, not in
files) under `--work`: mostly plain-text articles built from the development sets' gold article
texts and the seed texts (paragraphs shuffled between articles and a quarter of their words
swapped, so documents are distinct), a share of HTML pages (the development pages themselves,
gzipped, each with one generated paragraph added so copies differ), and planted exact copies
and near copies (a word or two edited per paragraph) of earlier documents. Then runs every stage
subcommand in its own child process under `/usr/bin/time -v`, and reports wall time, documents
per second and the peak resident memory of each stage. Per-document stages stream in batches, so
their peak should not grow with the corpus; dedup holds every signature, so its peak may.
`--write` writes the table to benchmarks/results/load.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "load.md"
STAGES = ("ingest", "extract", "strip", "dedup", "export")
CHROME = ["Share this:", "Leave a Reply", "Related Stories", "Sign up for our newsletter",
          "Your email address will not be published.", "Photo: Reuters"]


def _gold_paragraphs() -> list[str]:
    paras: list[str] = []
    for bench, key in (("scrapinghub", "articleBody"), ("wcxb-articles", "main_content")):
        gold = json.loads((DATA / "bench" / bench / "gold.json").read_text(encoding="utf-8"))
        for entry in gold.values():
            paras += [p.strip() for p in (entry.get(key) or "").split("\n") if len(p.split()) >= 8]
    for seed in sorted((DATA / "seeds").glob("*.txt")):
        paras += [p.strip() for p in seed.read_text(encoding="utf-8").split("\n") if len(p.split()) >= 8]
    return paras


def _mutate(text: str, rng: random.Random, vocab: list[str], share: float) -> str:
    words = text.split()
    for i in range(len(words)):
        if rng.random() < share:
            words[i] = rng.choice(vocab)
    return " ".join(words)


class CorpusMaker:
    """Deterministic documents: text articles, HTML pages, and planted copies of earlier ones."""

    def __init__(self, seed: int, html_share: float) -> None:
        self.rng = random.Random(seed)
        self.html_share = html_share
        self.paras = _gold_paragraphs()
        self.vocab = sorted({w for p in self.paras[:3000] for w in p.split() if w.isalpha()})
        self.pages = sorted((DATA / "bench" / "scrapinghub" / "html").glob("*.html.gz")) \
            + sorted((DATA / "bench" / "wcxb-articles" / "html").glob("*.html.gz"))
        self.texts: list[str] = []  # earlier text documents, the originals of planted copies

    def _article(self) -> str:
        rng = self.rng
        body = [_mutate(rng.choice(self.paras), rng, self.vocab, 0.25) for _ in range(rng.randint(4, 14))]
        title = " ".join(rng.choice(self.vocab) for _ in range(rng.randint(5, 10))).capitalize()
        if rng.random() < 0.3:
            body.append(rng.choice(CHROME))
        return "\n".join([title, *body]) + "\n"

    def text_doc(self) -> str:
        roll = self.rng.random()
        if self.texts and roll < 0.05:
            return self.rng.choice(self.texts)  # planted exact copy
        if self.texts and roll < 0.10:  # planted near copy: about one word in 30 edited
            lines = self.rng.choice(self.texts).splitlines()
            return "\n".join(_mutate(line, self.rng, self.vocab, 0.03) for line in lines) + "\n"
        doc = self._article()
        if len(self.texts) < 5000:
            self.texts.append(doc)
        else:
            self.texts[self.rng.randrange(5000)] = doc
        return doc

    def html_doc(self) -> bytes:
        page = gzip.decompress(self.rng.choice(self.pages).read_bytes())
        extra = _mutate(self.rng.choice(self.paras), self.rng, self.vocab, 0.5)
        tag = re.search(rb"<p[ >]", page)
        at = tag.start() if tag else len(page)
        return page[:at] + f"<p>{extra}</p>".encode() + page[at:]

    def write(self, raw: Path, n: int) -> None:
        for i in range(n):
            folder = raw / f"{i // 1000:04d}"
            if i % 1000 == 0:
                folder.mkdir(parents=True, exist_ok=True)
            if self.rng.random() < self.html_share:
                (folder / f"d{i:06d}.html.gz").write_bytes(gzip.compress(self.html_doc(), mtime=0))
            else:
                (folder / f"d{i:06d}.txt").write_text(self.text_doc(), encoding="utf-8")


def _run_stage(stage: str, raw: Path, out: Path) -> dict[str, float]:
    cmd = [sys.executable, "-m", "pipeline", "-q", stage, *([str(raw)] if stage == "ingest" else []),
           "--out", str(out), "--params", str(ROOT / "params.yaml")]
    start = time.perf_counter()
    res = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if res.returncode != 0:
        raise RuntimeError(f"{stage} failed:\n{res.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr)
    return {"seconds": wall, "peak_mb": int(rss.group(1)) / 1024 if rss else float("nan")}


def measure(n: int, work: Path, html_share: float, seed: int) -> dict[str, object]:
    raw, out = work / f"raw_{n}", work / f"out_{n}"
    shutil.rmtree(raw, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    CorpusMaker(seed, html_share).write(raw, n)
    gen = time.perf_counter() - t0
    stages = {s: _run_stage(s, raw, out) for s in STAGES}
    metrics = {s: json.loads((out / "metrics" / f"{s}.json").read_text())[s] for s in STAGES}
    row = {"n": n, "generate_s": gen, "stages": stages, "metrics": metrics,
           "raw_mb": sum(p.stat().st_size for p in raw.rglob("*") if p.is_file()) / 1e6}
    shutil.rmtree(raw, ignore_errors=True)
    return row


def _table(rows: list[dict], html_share: float) -> str:
    lines = ["# Load: the whole pipeline at corpus scale\n",
             f"`python -m benchmarks.load --sizes {','.join(str(r['n']) for r in rows)} "
             f"--html-share {html_share}` (one run per size; each stage a child process under "
             f"`/usr/bin/time -v`; 2 shared cores)\n",
             "| documents | raw MB | paragraphs | articles | rejects | total s | docs/s | "
             + " | ".join(f"{s} s / peak MB" for s in STAGES) + " |",
             "|---" * (7 + len(STAGES)) + "|"]
    for r in rows:
        total = sum(s["seconds"] for s in r["stages"].values())
        m = r["metrics"]
        cells = [f"{r['n']:,}", f"{r['raw_mb']:.0f}", f"{m['extract'].get('paragraphs', 0):,}",
                 f"{m['export']['articles']:,}", f"{m['export']['rejects']:,}", f"{total:.0f}",
                 f"{r['n'] / total:.0f}"]
        cells += [f"{r['stages'][s]['seconds']:.0f} / {r['stages'][s]['peak_mb']:.0f}" for s in STAGES]
        lines.append("| " + " | ".join(cells) + " |")
    if len(rows) > 1:
        lo, hi = rows[0], rows[-1]
        lines.append(f"\nPeak memory growth from {lo['n']:,} to {hi['n']:,} documents "
                     f"({hi['n'] / lo['n']:.0f}x the documents):\n")
        for s in STAGES:
            a, b = lo["stages"][s]["peak_mb"], hi["stages"][s]["peak_mb"]
            lines.append(f"- {s}: {a:.0f} MB -> {b:.0f} MB ({b / a:.2f}x)")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,30000,100000")
    ap.add_argument("--html-share", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/tmp/pipeline_load"))
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = ap.parse_args()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        row = measure(n, args.work, args.html_share, args.seed)
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "metrics"}, indent=1), flush=True)
        print(json.dumps(row["metrics"]["export"]), flush=True)
        if args.write:  # after every size, so a run cut short still leaves what it measured
            RESULTS.write_text(_table(rows, args.html_share), encoding="utf-8")
    print(_table(rows, args.html_share))


if __name__ == "__main__":
    main()
