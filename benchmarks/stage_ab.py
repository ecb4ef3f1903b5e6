"""Wall and CPU seconds per stage, A/B against another checkout, runs alternated in one session.

    python -m benchmarks.stage_ab RAW_DIR --base /path/to/other/checkout [--rounds 3] [--work DIR]

Each round runs `pipeline run --workers 1` once with the base checkout's code (PYTHONPATH) and
once with this one's, alternately, so both see the same load on a shared machine; each run is a
fresh process, and the stages are called as `pipeline run` calls them. Prints the median per stage
of each, and whether the two runs' outputs are byte-identical (every Parquet and metrics file).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("ingest", "extract", "strip", "dedup", "export")
# Run inside the measured checkout: the same calls and order as runner.run_all_timed.
_DRIVER = """
import sys, time
from pathlib import Path
from pipeline import runner
from pipeline.params import load_params
raw, out = Path(sys.argv[1]), Path(sys.argv[2])
params = load_params(None)
steps = [("ingest", lambda: runner.run_ingest(raw, out, params, 1, pool_follows=True)),
         ("extract", lambda: runner.run_extract(out, params, 1)),
         ("strip", lambda: runner.run_strip(out, params, 1)),
         ("dedup", lambda: runner.run_dedup(out, params, 1)),
         ("export", lambda: runner.run_export(out, params))]
for name, step in steps:
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    print(name, time.perf_counter() - wall, time.process_time() - cpu)
"""


def _run(code: Path, raw: Path, out: Path) -> dict[str, tuple[float, float]]:
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run([sys.executable, "-c", _DRIVER, str(raw), str(out)], env=env, cwd=out.parent,
                          capture_output=True, text=True, check=True)
    rows = (line.split() for line in done.stdout.splitlines())
    return {name: (float(wall), float(cpu)) for name, wall, cpu in rows}


def _identical(a: Path, b: Path) -> bool:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.suffix in (".parquet", ".json"))
    return all(filecmp.cmp(a / f, b / f, shallow=False) for f in files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("raw", type=Path)
    ap.add_argument("--base", type=Path, required=True, help="the other checkout (its repository root)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", type=Path, help="where the outputs go (default: a temporary folder)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="stage_ab_"))
    work.mkdir(parents=True, exist_ok=True)
    codes = {"base": args.base.resolve(), "this": ROOT}
    times: dict[str, list[dict[str, tuple[float, float]]]] = {k: [] for k in codes}
    for _ in range(args.rounds):
        for label, code in codes.items():
            times[label].append(_run(code, args.raw.resolve(), work / label))
    print("| stage | base wall | this wall | base CPU | this CPU |")
    print("|---|---:|---:|---:|---:|")
    for stage in [*STAGES, "total"]:
        def med(label: str, k: int, stage: str = stage) -> float:
            return statistics.median(sum(r[s][k] for s in (STAGES if stage == "total" else [stage]))
                                     for r in times[label])
        print(f"| {stage} | {med('base', 0):.2f} | {med('this', 0):.2f} | {med('base', 1):.2f} | "
              f"{med('this', 1):.2f} |")
    print(f"medians of {args.rounds} alternated runs; outputs byte-identical: "
          f"{_identical(work / 'base', work / 'this')}")


if __name__ == "__main__":
    main()
