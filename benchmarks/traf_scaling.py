"""How far trafilatura itself scales to two processes here: the ceiling for `--workers 2`.

    .venv/bin/python -m benchmarks.traf_scaling [--rounds 2] [--limit N]

One child process runs `trafilatura.extract` (the pipeline's options, as `benchmarks.speed`) over
all development pages, then two children each take every other page at the same time; the
speed-up is the first wall clock over the second, per round. No pipeline code runs. The CPU
seconds the children used (user + system) show what the speed-up loses to the two processes
slowing each other down (shared core resources, memory bandwidth), as against idle time.
"""

from __future__ import annotations

import argparse
import resource
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


def _wall(folder: Path, parts: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the children) of `parts` children sharing the pages."""
    cmd = [sys.executable, "-m", "benchmarks.traf_scaling", "--child", str(folder), str(parts)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    procs = [subprocess.Popen([*cmd, str(k)]) for k in range(parts)]
    if any(p.wait() != 0 for p in procs):
        raise RuntimeError("a trafilatura child failed")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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
            (one, cpu_one), (two, cpu_two) = _wall(Path(tmp), 1), _wall(Path(tmp), 2)
            ratios.append(one / two)
            print(f"round {r}: {n} pages, one process {one:.1f} s ({cpu_one:.1f} CPU s), two processes "
                  f"{two:.1f} s ({cpu_two:.1f} CPU s, {cpu_two / cpu_one:.2f}x the CPU for the same pages): "
                  f"{one / two:.2f}x")
        print(f"median speed-up of trafilatura alone, 2 processes over 1: {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
