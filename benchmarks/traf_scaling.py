"""How far trafilatura itself scales to two processes here: the ceiling for `--workers 2`.

    .venv/bin/python -m benchmarks.traf_scaling [--rounds 2] [--limit N]

One child process runs `trafilatura.extract` (the pipeline's options: `benchmarks.speed`'s child)
over all development pages, then two children each take every other page at the same time; the
speed-up is the first wall clock over the second, per round. No pipeline code runs. The CPU
seconds the children used (user + system) show what the speed-up loses to the two processes
slowing each other down (shared core resources, memory bandwidth), as against idle time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from benchmarks.speed import BENCH, trafilatura_shared, write_pages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        n = write_pages(BENCH, Path(tmp), args.limit)
        ratios = []
        for r in range(1, args.rounds + 1):
            one, cpu_one = trafilatura_shared(Path(tmp), 1)
            two, cpu_two = trafilatura_shared(Path(tmp), 2)
            ratios.append(one / two)
            print(f"round {r}: {n} pages, one process {one:.1f} s ({cpu_one:.1f} CPU s), two processes "
                  f"{two:.1f} s ({cpu_two:.1f} CPU s, {cpu_two / cpu_one:.2f}x the CPU for the same pages): "
                  f"{one / two:.2f}x")
        print(f"median speed-up of trafilatura alone, 2 processes over 1: {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
