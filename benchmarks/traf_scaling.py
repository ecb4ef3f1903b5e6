"""How far trafilatura itself scales to two processes here: the ceiling for `--workers 2`.

    .venv/bin/python -m benchmarks.traf_scaling [--rounds 2] [--limit N]

One child process runs `trafilatura.extract` (the pipeline's options, as `benchmarks.speed`) over
all development pages, then two children each take every other page at the same time; the
speed-up is the first wall clock over the second, per round. No pipeline code runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.speed import BENCH, SAME_OPTIONS, write_pages


def child(folder: Path, part: int, parts: int) -> None:
    import trafilatura

    for page in sorted(folder.iterdir())[part::parts]:
        trafilatura.extract(page.read_text(encoding="utf-8", errors="replace"), **SAME_OPTIONS)


def _wall(folder: Path, parts: int) -> float:
    cmd = [sys.executable, "-m", "benchmarks.traf_scaling", "--child", str(folder), str(parts)]
    start = time.perf_counter()
    procs = [subprocess.Popen([*cmd, str(k)]) for k in range(parts)]
    if any(p.wait() != 0 for p in procs):
        raise RuntimeError("a trafilatura child failed")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), int(args.child[2]), int(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        n = write_pages(BENCH, Path(tmp), args.limit)
        ratios = []
        for r in range(1, args.rounds + 1):
            one, two = _wall(Path(tmp), 1), _wall(Path(tmp), 2)
            ratios.append(one / two)
            print(f"round {r}: {n} pages, one process {one:.1f} s, two processes {two:.1f} s: "
                  f"{one / two:.2f}x")
        print(f"median speed-up of trafilatura alone, 2 processes over 1: {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
