"""dedup seconds with 1 and 2 local workers and on a local Ray, on one generated corpus.

    .venv/bin/python -m benchmarks.dedup_scale [--size 10000] [--html-share 0.02] [--rounds 3]
                                               [--shard-rows N] [--work /tmp/pipeline_dedup_scale]

Generates a corpus with benchmarks/load.py's generator and runs ingest, extract and strip on it
once (not timed). Then, in each round, dedup runs on a fresh copy of the strip output in one child
process per configuration: `local 1` (everything in-process), `local 2` (signing and band phases
on a pool of 2 processes), `ray 2` (the same phases on 2 Ray actors; the child starts a local Ray
with 2 CPUs first, and that start-up is timed apart). The time is `runner.run_dedup` alone (the
child's imports and Ray start-up excluded). Prints the median seconds per configuration, the
ratios within each round (the machine is shared: rounds see different loads), the load average
and whether every configuration wrote the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = (("local", 1), ("local", 2), ("ray", 2))


def child(engine: str, out: Path, workers: int, shard_rows: int | None) -> None:
    """Time one dedup run in this process; print {"seconds", "startup"} as JSON."""
    import dataclasses

    from pipeline import runner
    from pipeline.params import load_params

    params = load_params(ROOT / "params.yaml")
    if shard_rows:
        params = dataclasses.replace(params, dedup=dataclasses.replace(params.dedup, shard_rows=shard_rows))
    startup = 0.0
    if engine == "ray":
        import ray

        from pipeline import ray_engine

        start = time.perf_counter()
        ray.init(num_cpus=workers, include_dashboard=False)
        startup = time.perf_counter() - start
        start = time.perf_counter()
        runner.run_dedup(out, params, workers, ray_engine.RayMapper((out / "ray-work").as_posix()))
        seconds = time.perf_counter() - start
        ray.shutdown()
    else:
        start = time.perf_counter()
        runner.run_dedup(out, params, workers)
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "startup": startup}))


def _prepare(args: argparse.Namespace) -> tuple[Path, int]:
    """The strip output of a generated corpus (made once, reused by later invocations)."""
    from benchmarks.load import CorpusMaker

    base = args.work / "base"
    if not (base / "stages" / "strip" / "paragraphs.parquet").is_file():
        shutil.rmtree(args.work, ignore_errors=True)
        raw = args.work / "raw"
        CorpusMaker(args.seed, args.html_share).write(raw, args.size)
        for stage in ("ingest", "extract", "strip"):
            cmd = [sys.executable, "-m", "pipeline", "-q", stage, *([str(raw)] if stage == "ingest" else []),
                   "--out", str(base), "--params", str(ROOT / "params.yaml"), "--workers", "2"]
            subprocess.run(cmd, check=True)
    return base, json.loads((base / "metrics" / "strip.json").read_text())["strip"]["kept"]


def _run(base: Path, dest: Path, engine: str, workers: int, shard_rows: int | None) -> dict:
    shutil.rmtree(dest, ignore_errors=True)
    for stage in ("extract", "strip"):
        shutil.copytree(base / "stages" / stage, dest / "stages" / stage)
    cmd = [sys.executable, "-m", "benchmarks.dedup_scale", "--child", engine, str(dest), str(workers),
           str(shard_rows or 0)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if res.returncode != 0:
        raise RuntimeError(f"dedup {engine} {workers} failed:\n{res.stderr[-3000:]}")
    got = json.loads(res.stdout.strip().splitlines()[-1])
    got["files"] = {p.name: p.read_bytes() for p in sorted((dest / "stages" / "dedup").iterdir())}
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--html-share", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--shard-rows", type=int, default=None, help="dedup.shard_rows (default: params.yaml)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/pipeline_dedup_scale"))
    ap.add_argument("--child", nargs=4, metavar=("ENGINE", "OUT", "WORKERS", "SHARD_ROWS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        engine, out, workers, shard_rows = args.child
        return child(engine, Path(out), int(workers), int(shard_rows) or None)
    base, kept = _prepare(args)
    print(f"corpus: {args.size} documents, {kept} paragraphs kept by strip (dedup's input); "
          f"shard_rows {args.shard_rows or 'from params.yaml'}")
    seconds: dict[str, list[float]] = {f"{e} {n}": [] for e, n in CONFIGS}
    for r in range(1, args.rounds + 1):
        load = os.getloadavg()[0]
        got = {f"{e} {n}": _run(base, args.work / f"{e}{n}", e, n, args.shard_rows) for e, n in CONFIGS}
        for name, g in got.items():
            seconds[name].append(g["seconds"])
        same = all(g["files"] == got["local 1"]["files"] for g in got.values())
        one = got["local 1"]["seconds"]
        print(f"round {r}: " + ", ".join(f"{k} {g['seconds']:.1f} s" for k, g in got.items())
              + f"; local 1 / local 2 {one / got['local 2']['seconds']:.2f}x, local 1 / ray 2 "
              f"{one / got['ray 2']['seconds']:.2f}x; Ray start-up {got['ray 2']['startup']:.1f} s; "
              f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; outputs identical: {same}")
    print("median dedup seconds: " + ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in seconds.items()))


if __name__ == "__main__":
    main()
