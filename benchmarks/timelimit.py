"""What the extraction time limit costs: the dev pages extracted in process vs in the worker.

    .venv/bin/python -m benchmarks.timelimit [--runs 3] [--bench scrapinghub]

`extract.timeout_seconds: 0` extracts in this process (no limit); any other value sends each
page to a forked worker process (`pipeline/timelimit.py`) and waits at most that long. Prints
the median wall time of `--runs` runs of each mode, alternated, and their ratio.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from pathlib import Path

import pyarrow as pa

from pipeline import schema
from pipeline.params import ExtractParams
from pipeline.stages import extract

BENCH = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bench"


def _pages(bench: str) -> pa.Table:
    rows = []
    for i, path in enumerate(sorted((BENCH / bench / "html").glob("*.html.gz"))):
        html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        rows.append({"doc_id": str(i), "source_path": path.name, "source_sha256": "0", "source_bytes": 0,
                     "source_format": "html", "compression": None, "encoding": "utf-8", "url": None,
                     "content": html})
    return pa.Table.from_pylist(rows, schema=schema.DOCUMENTS_RAW)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bench", default="scrapinghub")
    args = ap.parse_args()
    docs = _pages(args.bench)
    times: dict[float, list[float]] = {0: [], 30: []}
    for _ in range(args.runs):
        for seconds in times:
            params = ExtractParams(timeout_seconds=seconds)
            start = time.perf_counter()
            with extract.limited_extractor(params) as html:
                extract.run(docs, params, html_extractor=html)
            times[seconds].append(time.perf_counter() - start)
    inproc, worker = (statistics.median(times[s]) for s in (0, 30))
    print(f"{docs.num_rows} pages of {args.bench}, median of {args.runs} runs")
    print(f"in process (timeout_seconds: 0): {inproc:.2f} s ({docs.num_rows / inproc:.1f} pages/s)")
    print(f"worker (timeout_seconds: 30):    {worker:.2f} s ({docs.num_rows / worker:.1f} pages/s)")
    print(f"worker / in process: {worker / inproc:.3f}")


if __name__ == "__main__":
    main()
