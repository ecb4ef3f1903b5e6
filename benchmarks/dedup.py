"""Paragraph dedup at corpus scale: speed, recall/precision on planted copies, memory.

    .venv/bin/python -m benchmarks.dedup [--n 200000] [--runs 3] [--million] [--write]

Builds its own corpus: paragraphs of 20-120 words drawn from a Zipf vocabulary of pseudo-words,
spread over documents of 10 paragraphs, plus planted copies of known Jaccard (word insertions,
deletions, substitutions, punctuation and case changes; a few exact copies). Every figure
comes from this one run: the stage end to end (`pipeline.stages.dedup.run` on a paragraphs
table: normalise, shingle, signature, LSH, verification, clusters, decisions), medians of
`--runs`; the plain datasketch path (Python normalise and shingles, `MinHash.update` loop,
`MinHashLSH` with datasketch's own band split for the threshold) on a subset, same process;
recall and precision against the exact Jaccard of the planted pairs' string shingles; and the
tracemalloc peak of signatures plus band buckets per paragraph. `--write` also writes the table
to benchmarks/results/dedup.md.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipeline import schema
from pipeline.dedup.bands import candidates_bands
from pipeline.dedup.normalise import normalise
from pipeline.dedup.sketch import sketch
from pipeline.params import DedupParams
from pipeline.stages import dedup

RESULTS = Path(__file__).resolve().parent / "results" / "dedup.md"
_SYL = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vi", "do", "pa", "ge", "zu", "an", "or", "el", "is"]


def _vocab(rng: np.random.Generator, size: int) -> list[str]:
    words = {"".join(rng.choice(_SYL, rng.integers(1, 5))) for _ in range(size * 2)}
    return sorted(words)[:size]


def _edit(words: list[str], rate: float, rng: np.random.Generator, vocab: list[str]) -> list[str]:
    out = list(words)
    for _ in range(max(1, round(rate * len(words)))):
        op, i = rng.integers(0, 5), int(rng.integers(0, len(out)))
        if op == 0:
            out.insert(i, vocab[int(rng.integers(len(vocab)))])
        elif op == 1 and len(out) > 5:
            del out[i]
        elif op == 2:
            out[i] = vocab[int(rng.integers(len(vocab)))]
        elif op == 3:
            out[i] = out[i] + rng.choice([",", ";", "…", "’", " —"])
        else:
            out[i] = out[i].upper()
    return out


def build_corpus(n: int, seed: int = 7) -> tuple[list[str], list[tuple[int, int]]]:
    """n paragraphs (about 8% planted copies) and the (original, copy) index pairs."""
    rng = np.random.default_rng(seed)
    vocab = _vocab(rng, 20000)
    zipf = 1.0 / np.arange(1, len(vocab) + 1)
    n_copies = n * 8 // 100
    lens = rng.integers(20, 121, n - n_copies)
    flat = rng.choice(len(vocab), int(lens.sum()), p=zipf / zipf.sum())
    bounds = np.concatenate(([0], np.cumsum(lens)))
    base = [[vocab[w] for w in flat[bounds[i]:bounds[i + 1]]] for i in range(len(lens))]
    texts = [" ".join(ws).capitalize() + "." for ws in base]
    planted = []
    for j in range(n_copies):
        src = int(rng.integers(len(base)))
        rate = 0.0 if j % 10 == 0 else float(rng.uniform(0.0, 0.12))
        copy = base[src] if rate == 0.0 else _edit(base[src], rate, rng, vocab)
        texts.append("“" + " ".join(copy) + "”" if j % 3 else " ".join(copy))
        planted.append((src, len(texts) - 1))
    order = rng.permutation(len(texts))  # copies land anywhere, before or after their original
    where = np.empty_like(order)
    where[order] = np.arange(len(order))
    return [texts[i] for i in order], [(int(where[a]), int(where[b])) for a, b in planted]


def as_table(texts: list[str]) -> pa.Table:
    n = len(texts)
    return pa.table({
        "doc_id": pa.array([f"doc{i // 10:07d}" for i in range(n)]),
        "para_idx": pa.array(np.arange(n) % 10, pa.int32()), "text": pa.array(texts),
        "char_start": pa.array(np.zeros(n, np.int64)), "char_end": pa.array([len(t) for t in texts]),
        "status": pa.array(["kept"] * n)}).select(["doc_id", "para_idx", "text", "char_start",
                                                   "char_end", "status"])


def with_schema(t: pa.Table) -> pa.Table:
    cols = {f.name: t.column(f.name) if f.name in t.column_names else pa.nulls(t.num_rows, f.type)
            for f in schema.PARAGRAPHS}
    return pa.table(cols, schema=schema.PARAGRAPHS)


def time_stage(table: pa.Table, params: DedupParams, runs: int) -> tuple[float, pa.Table]:
    times, out = [], None
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        out = dedup.run(table, params).tables["paragraphs"]
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def time_datasketch(texts: list[str], params: DedupParams) -> float:
    """The plain path: Python shingles, MinHash.update per shingle, MinHashLSH insert + query."""
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=params.threshold, num_perm=params.num_perm)
    sigs = []
    for i, text in enumerate(texts):
        m = MinHash(num_perm=params.num_perm, seed=params.seed)
        for s in dedup.shingles(normalise(text), params.shingle_size):
            m.update(s.encode("utf-8"))
        sigs.append(m)
        lsh.insert(i, m)
    for m in sigs:
        lsh.query(m)
    return time.perf_counter() - t0


def accuracy(texts: list[str], planted: list[tuple[int, int]], out: pa.Table,
             params: DedupParams) -> dict[str, float]:
    k, thr = params.shingle_size, params.threshold
    sets = {}

    def ref(i: int) -> frozenset[str]:
        if i not in sets:
            sets[i] = dedup.shingles(normalise(texts[i]), k)
        return sets[i]

    cluster = out.column("dup_cluster").to_pylist()
    above = [(a, b) for a, b in planted if dedup.jaccard(ref(a), ref(b)) >= thr]
    found = sum(1 for a, b in above if cluster[a] is not None and cluster[a] == cluster[b])
    key = {f"doc{i // 10:07d}:{i % 10}": i for i in range(len(texts))}
    group = {b: a for a, b in planted}
    dup_of, status = out.column("dup_of").to_pylist(), out.column("status").to_pylist()
    removed = [(i, key[d]) for i, d in enumerate(dup_of) if d is not None and status[i] == "removed"]
    true = sum(1 for i, s in removed if group.get(i, i) == group.get(s, s))
    above_thr = sum(1 for i, s in removed if dedup.jaccard(ref(i), ref(s)) >= thr)
    return {"planted_above": len(above), "recall": found / max(len(above), 1),
            "removed": len(removed), "precision": true / max(len(removed), 1),
            "removed_jaccard_ge_threshold": above_thr / max(len(removed), 1)}


def memory_per_paragraph(texts: list[str], params: DedupParams) -> float:
    """tracemalloc peak of the signatures and band buckets, in bytes per paragraph."""
    bands, rows = params.band_split()
    gc.collect()
    tracemalloc.start()
    sk = sketch(texts, params.shingle_size, params.num_perm, params.seed, params.minhash_min_words)
    candidates_bands(sk.sig, sk.mh_rows, bands, rows, params.bucket_cap, len(texts))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / len(texts)


def _table(f: dict, mem: dict[int, float], args: argparse.Namespace) -> str:
    rows = [
        (f"end to end, pipeline stage (paragraphs/s, median of {args.runs})", f"{f['rate']:,.0f}",
         ">= 50,000", f["rate"] >= 50_000),
        (f"plain datasketch path on {f['ds_n']:,} paragraphs (paragraphs/s)", f"{f['ds_rate']:,.0f}",
         "", None),
        ("speed-up over plain datasketch", f"{f['ratio']:.1f}x", ">= 25x", f["ratio"] >= 25),
        (f"recall of {f['planted_above']:,} planted pairs with Jaccard >= {f['thr']}",
         f"{f['recall']:.4f}", ">= 0.97", f["recall"] >= 0.97),
        (f"precision of {f['removed']:,} removed rows (survivor is a planted relative)",
         f"{f['precision']:.4f}", ">= 0.995", f["precision"] >= 0.995),
        ("removed rows with exact Jaccard >= threshold to their survivor",
         f"{f['removed_jaccard_ge_threshold']:.4f}", "", None),
    ]
    rows += [(f"signatures + buckets, peak at {n:,} paragraphs (bytes/paragraph)", f"{b:,.0f}",
              "< 1,024", b < 1024) for n, b in sorted(mem.items())]
    lines = ["| figure | value | target | met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {'' if d is None else ('yes' if d else 'NO')} |" for a, b, c, d in rows]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000, help="paragraphs in the timed corpus")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of the stage (median)")
    ap.add_argument("--datasketch-n", type=int, default=10_000, help="paragraphs for the plain path")
    ap.add_argument("--million", action="store_true", help="memory also at 500,000 and 1,000,000")
    ap.add_argument("--write", action="store_true", help=f"write the table to {RESULTS}")
    args = ap.parse_args()
    params = DedupParams()
    sizes = sorted({100_000, args.n, *((500_000, 1_000_000) if args.million else ())})
    texts, planted = build_corpus(args.n)
    table = with_schema(as_table(texts))
    dedup.run(with_schema(as_table(texts[:2000])), params)  # warm-up: imports, permutation tables
    elapsed, out = time_stage(table, params, args.runs)
    f: dict = {"rate": len(texts) / elapsed, "thr": params.threshold}
    f["ds_n"] = min(args.datasketch_n, len(texts))
    f["ds_rate"] = f["ds_n"] / time_datasketch(texts[:f["ds_n"]], params)
    f["ratio"] = f["rate"] / f["ds_rate"]
    f.update(accuracy(texts, planted, out, params))
    del table, out
    mem = {}
    for n in sizes:
        big = texts if n <= len(texts) else build_corpus(n)[0]
        mem[n] = memory_per_paragraph(big[:n], params)
    report = _table(f, mem, args)
    cmd = "python -m benchmarks.dedup " + " ".join(
        [f"--n {args.n}", f"--runs {args.runs}", *(["--million"] if args.million else [])])
    print(f"`{cmd}` (one run, one core)\n\n{report}")
    if args.write:
        RESULTS.write_text(f"# Paragraph dedup at corpus scale\n\n`{cmd}` (one run, one core)\n\n"
                           f"{report}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
