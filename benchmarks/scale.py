"""Scaling of the per-document stages (ingest, extract, strip) with `--workers`.

    .venv/bin/python -m benchmarks.scale [--size 5000] [--html-share 0.1] [--rounds 3]
                                         [--workers 1,2] [--work /tmp/pipeline_scale] [--write]
                                         [--engines local,ray]

Generates one corpus with benchmarks/load.py's generator (text articles from the development
sets' gold texts, a share of real HTML pages, planted copies), then, in each round, runs the
three per-document stage subcommands with every worker count in turn, each in its own child
process, and times them. Prints documents per second per worker count (the median over rounds)
and, per round, the ratio of the time with 1 worker to the time with N, since rounds on a
shared machine see different loads. Also checks that every worker count wrote the same bytes.
The load average is printed with each round: the machine is shared.
`--write` writes the table to benchmarks/results/scale.md.

With `--engines local,ray` (the default) each round also runs the three stages on a local Ray
(`--engine ray`, one child process per worker count that starts Ray once), checks that they wrote
the same bytes as the local engine, and prints Ray's throughput, start-up and overhead against the
local engine in the same round (`--write`: benchmarks/results/scale_ray.md).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.load import CorpusMaker

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "scale.md"
STAGES = ("ingest", "extract", "strip")


_PR_SET_CHILD_SUBREAPER = 36


def _cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def _adopt_orphans() -> None:
    """Become the reaper of this process's orphaned descendants (Linux). A stage's pool workers are
    children of its fork server, which the stage never waits for: without this their CPU is
    missing from RUSAGE_CHILDREN (2 workers showed 3 s of CPU against 20 s for one)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reap(grace: float = 2.0) -> None:
    """Wait for the adopted orphans (the fork server exits as soon as its run has), at most `grace` s."""
    deadline = time.monotonic() + grace
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)


def _stage(stage: str, raw: Path, out: Path, workers: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the stage and every process it started and waited for)."""
    cmd = [sys.executable, "-m", "pipeline", "-q", stage, *([str(raw)] if stage == "ingest" else []),
           "--out", str(out), "--params", str(ROOT / "params.yaml"), "--workers", str(workers)]
    start, cpu = time.perf_counter(), _cpu()
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if res.returncode != 0:
        raise RuntimeError(f"{stage} --workers {workers} failed:\n{res.stderr[-3000:]}")
    _reap()
    return wall, _cpu() - cpu


def _outputs(out: Path) -> dict[str, bytes]:
    files = sorted((out / "stages").rglob("*.parquet"))
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in files}


def one_round(raw: Path, work: Path, workers: list[int]) -> dict[str, object]:
    load_before = os.getloadavg()[0]
    times: dict[int, dict[str, float]] = {}
    cpu: dict[int, float] = {}
    outputs = []
    for n in workers:
        out = work / f"out_w{n}"
        shutil.rmtree(out, ignore_errors=True)
        runs = {s: _stage(s, raw, out, n) for s in STAGES}
        times[n] = {s: wall for s, (wall, _) in runs.items()}
        cpu[n] = sum(c for _, c in runs.values())
        outputs.append(_outputs(out))
    same = all(o == outputs[0] for o in outputs[1:])
    return {"times": times, "cpu": cpu, "identical": same, "load": (load_before, os.getloadavg()[0])}


def _table(n_docs: int, rounds: list[dict], workers: list[int], args: argparse.Namespace) -> str:
    base = workers[0]
    lines = ["# Scale: per-document stages with --workers\n",
             f"`python -m benchmarks.scale --size {args.size} --html-share {args.html_share} "
             f"--rounds {args.rounds} --workers {','.join(map(str, workers))}` on {os.cpu_count()} cores "
             f"shared with other jobs; {n_docs:,} input documents; each stage a child process "
             f"(pool start-up included). docs/s = input documents / (ingest + extract + strip seconds), "
             f"median over rounds; ratio = time with {base} worker / time with N, per round.\n",
             "| workers | median docs/s | CPU s (median, all processes) | "
             + " | ".join(f"{s} s (median)" for s in STAGES) + " |",
             "|---" * (3 + len(STAGES)) + "|"]
    for n in workers:
        totals = [sum(r["times"][n].values()) for r in rounds]
        cells = [str(n), f"{n_docs / statistics.median(totals):.0f}",
                 f"{statistics.median(r['cpu'][n] for r in rounds):.1f}"]
        cells += [f"{statistics.median(r['times'][n][s] for r in rounds):.1f}" for s in STAGES]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for i, r in enumerate(rounds, 1):
        t = {n: sum(r["times"][n].values()) for n in workers}
        ratios = ", ".join(f"{base}->{n} workers {t[base] / t[n]:.2f}x" for n in workers[1:])
        per_stage = "; ".join(f"{s} {r['times'][base][s] / r['times'][n][s]:.2f}x"
                              for n in workers[1:] for s in STAGES)
        lines.append(f"- round {i}: {ratios} (by stage: {per_stage}); load average "
                     f"{r['load'][0]:.1f} before, {r['load'][1]:.1f} after; outputs identical: "
                     f"{r['identical']}")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=5000)
    ap.add_argument("--html-share", type=float, default=0.1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/tmp/pipeline_scale"))
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    ap.add_argument("--engines", default="local,ray", help="local, or local,ray to measure Ray as well")
    ap.add_argument("--ray-child", nargs=3, metavar=("RAW", "OUT", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ray_child:
        return ray_child(Path(args.ray_child[0]), Path(args.ray_child[1]), int(args.ray_child[2]))
    _adopt_orphans()
    with_ray = "ray" in args.engines.split(",")
    workers = [int(w) for w in args.workers.split(",")]
    raw = args.work / "raw"
    shutil.rmtree(args.work, ignore_errors=True)
    CorpusMaker(args.seed, args.html_share).write(raw, args.size)
    rounds, ray_rounds = [], []
    for i in range(args.rounds):
        rounds.append(one_round(raw, args.work, workers))
        print(json.dumps({"round": i + 1, **rounds[-1]}), flush=True)
        if with_ray:
            ray_rounds.append(ray_round(raw, args.work, workers))
            print(json.dumps({"round": i + 1, "ray": ray_rounds[-1]}), flush=True)
    n_docs = json.loads((args.work / f"out_w{workers[0]}" / "metrics" / "ingest.json").read_text())
    table = _table(n_docs["ingest"]["inputs"], rounds, workers, args)
    print(table)
    if args.write:
        RESULTS.write_text(table, encoding="utf-8")
    if with_ray:
        ray_table = _ray_table(n_docs["ingest"]["inputs"], rounds, ray_rounds, workers, args)
        print(ray_table)
        if args.write:
            RESULTS_RAY.write_text(ray_table, encoding="utf-8")
    shutil.rmtree(args.work, ignore_errors=True)


# --- The Ray engine (`--engine ray`), measured in the same rounds as the local engine. ---------------

RESULTS_RAY = ROOT / "benchmarks" / "results" / "scale_ray.md"


def ray_child(raw: Path, out: Path, workers: int) -> None:
    """In a child process: start one local Ray with `workers` CPUs, run the three stages on it as
    `--engine ray` does, and print the seconds of Ray's start-up and of each stage as JSON."""
    import logging

    from pipeline import ray_engine, runner
    from pipeline.params import load_params

    logging.basicConfig(level=logging.WARNING)
    params = load_params(ROOT / "params.yaml")
    mapper = ray_engine.RayMapper((out / "ray-work").resolve().as_posix())
    start = time.perf_counter()
    with ray_engine.session(None, workers):
        times = {"ray_start": time.perf_counter() - start}
        for stage in STAGES:
            t = time.perf_counter()
            if stage == "ingest":
                runner.run_ingest(raw, out, params, workers, mapper)
            else:
                getattr(runner, f"run_{stage}")(out, params, workers, mapper)
            times[stage] = time.perf_counter() - t
    print(json.dumps(times), flush=True)


def ray_round(raw: Path, work: Path, workers: list[int]) -> dict[str, object]:
    """The three stages on local Ray with each worker count; outputs compared with the local
    engine's (`one_round` of the same round wrote them under out_w{N})."""
    load_before = os.getloadavg()[0]
    times: dict[int, dict[str, float]] = {}
    identical = True
    for n in workers:
        out = work / f"out_ray{n}"
        shutil.rmtree(out, ignore_errors=True)
        cmd = [sys.executable, "-m", "benchmarks.scale", "--ray-child", str(raw), str(out), str(n)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
        if res.returncode != 0:
            raise RuntimeError(f"ray --workers {n} failed:\n{res.stderr[-3000:]}")
        times[n] = json.loads(res.stdout.strip().splitlines()[-1])
        identical &= _outputs(out) == _outputs(work / f"out_w{n}")
    return {"times": times, "identical": identical, "load": (load_before, os.getloadavg()[0])}


def _ray_table(n_docs: int, local: list[dict], ray: list[dict], workers: list[int],
               args: argparse.Namespace) -> str:
    base = workers[0]
    lines = ["# Scale: the per-document stages on local Ray (`--engine ray`) against the local engine\n",
             f"`python -m benchmarks.scale --size {args.size} --html-share {args.html_share} "
             f"--rounds {args.rounds} --workers {','.join(map(str, workers))}` on {os.cpu_count()} cores "
             f"shared with other jobs; {n_docs:,} input documents. Ray: one child process per worker count "
             "starts a local Ray with N CPUs, then runs ingest, extract and strip on it (N actors per "
             "stage). docs/s = input documents / (ingest + extract + strip seconds, Ray start-up "
             "excluded), median over rounds; overhead = Ray time / local time with the same N in the "
             "same round.\n",
             "| workers | local docs/s | Ray docs/s | Ray start-up s | "
             + " | ".join(f"Ray {s} s" for s in STAGES) + " |", "|---" * (4 + len(STAGES)) + "|"]
    for n in workers:
        loc = statistics.median(sum(r["times"][n].values()) for r in local)
        on_ray = statistics.median(sum(r["times"][n][s] for s in STAGES) for r in ray)
        cells = [str(n), f"{n_docs / loc:.0f}", f"{n_docs / on_ray:.0f}",
                 f"{statistics.median(r['times'][n]['ray_start'] for r in ray):.1f}"]
        cells += [f"{statistics.median(r['times'][n][s] for r in ray):.1f}" for s in STAGES]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for i, (lr, rr) in enumerate(zip(local, ray, strict=True), 1):
        t = {n: sum(rr["times"][n][s] for s in STAGES) for n in workers}
        over = ", ".join(f"{n} workers {t[n] / sum(lr['times'][n].values()):.2f}x" for n in workers)
        scale = ", ".join(f"{base}->{n} workers {t[base] / t[n]:.2f}x" for n in workers[1:])
        lines.append(f"- round {i}: Ray overhead {over}; Ray {scale}; load average {rr['load'][0]:.1f} "
                     f"before, {rr['load'][1]:.1f} after; outputs identical to local: {rr['identical']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
