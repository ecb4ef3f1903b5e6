"""CPU of strip's line-rule matching on a run's extract output, as strip does it, batch by batch
(each Parquet row group, as `runner.run_strip` reads them): the candidates of the batch
(`LineMatcher.candidates`, in Arrow), then `LineMatcher.marks` per document (rules tried on the
candidates only). Against a version without `candidates` (main before it), that version's batch
path: every paragraph folded, its literal gate over the batch, then `marks`.

    python -m benchmarks.line_rules OUT_DIR [--runs 5] [--profile]

OUT_DIR is a `pipeline run` output folder (its stages/extract tables are read). Prints the median
and every run's CPU seconds (`time.process_time`, one process), and a digest of the rule each
paragraph got, to compare two versions of the matcher: run it with each one's interpreter, in
turns. `--profile` adds a cProfile top 15 of one more run.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import statistics
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.rules import Rule, load_rules
from pipeline.rules.prefilter import fold
from pipeline.stages import strip


def _batches(extract: Path) -> list[pa.Table]:
    parquet = pq.ParquetFile(extract / "paragraphs.parquet")
    return [parquet.read_row_group(i, columns=["doc_id", "para_idx", "text"])
            for i in range(parquet.num_row_groups)]


def _documents(paragraphs: pa.Table) -> list[list[int]]:
    """Row numbers of each document's paragraphs, in paragraph order."""
    by_doc: dict[str, list[int]] = {}
    for i, doc_id in enumerate(paragraphs.column("doc_id").to_pylist()):
        by_doc.setdefault(doc_id, []).append(i)
    order = paragraphs.column("para_idx").to_pylist()
    return [sorted(rows, key=order.__getitem__) for rows in by_doc.values()]


def _mark_all(matcher: Any, batches: list[tuple[pa.Table, list[str], list[list[int]]]]) -> list[Rule | None]:
    marks: list[Rule | None] = []
    for batch, texts, docs in batches:
        if hasattr(matcher, "candidates"):
            candidates = matcher.candidates(batch.column("text"))
            for at in docs:
                marks.extend(matcher.marks([texts[i] for i in at], candidates[at]))
        else:  # the version before `candidates`
            folded = [fold(t) for t in texts]
            gate = matcher.literal_gate(pa.array(folded, pa.string()))
            for at in docs:
                marks.extend(matcher.marks([texts[i] for i in at], [folded[i] for i in at],
                                           None if gate is None else gate[at]))
    return marks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    extract = args.out / "stages" / "extract"
    batches = [(b, b.column("text").to_pylist(), _documents(b)) for b in _batches(extract)]
    documents = pq.read_table(extract / "documents.parquet", columns=["doc_id", "hostname", "source_format"])
    rules = load_rules()
    # One matcher for the whole corpus when every document gets the same rules (the text path).
    kinds = set(zip(documents.column("hostname").to_pylist(), documents.column("source_format").to_pylist(),
                    strict=True))
    if len(kinds) != 1:
        raise SystemExit(f"{len(kinds)} (host, format) pairs: this benchmark wants one (the text path)")
    host, fmt = kinds.pop()
    matcher = strip.line_matcher(rules, host, fmt, {})

    def once() -> list[Rule | None]:
        return _mark_all(matcher, batches)

    marks = once()  # warm: groups built, patterns compiled
    seconds = []
    for _ in range(args.runs):
        start = time.process_time()
        once()
        seconds.append(time.process_time() - start)
    digest = hashlib.sha256(repr([m and m.id for m in marks]).encode()).hexdigest()[:12]
    n_paras, n_docs = sum(len(t) for _, t, _ in batches), sum(len(d) for _, _, d in batches)
    print(f"line matching, {n_paras:,} paragraphs, {n_docs:,} documents, {len(batches)} batches: median "
          f"{statistics.median(seconds):.3f} s CPU; runs {' '.join(f'{s:.3f}' for s in seconds)}; "
          f"{sum(m is not None for m in marks)} marked, digest {digest}")
    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(once)
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
