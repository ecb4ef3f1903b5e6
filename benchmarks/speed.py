"""End-to-end speed: the whole pipeline against trafilatura alone, time per stage, start-up.

    .venv/bin/python -m benchmarks.speed [--runs 3] [--limit N] [--text-docs 4000] [--write]

Every figure comes from this one command, each timing a child process (interpreter start-up and
imports included), so nothing warm is shared between what is compared:
- HTML path: `pipeline run --workers 1` on the development pages (`--limit` takes the first N
  by name) against a loop of `trafilatura.extract` over the same files with the options the
  pipeline uses (metadata, extensive date search, links, tables; `same options`), and with
  trafilatura's defaults for reference; then `pipeline run --workers 2`, and the same loop in two
  processes sharing the pages (how far extraction alone scales here). Each round runs the four
  in one order and then in reverse, and compares the means of each pair, so each round's ratios
  share one load and a steady drift of the machine cancels out; medians over `--runs` rounds.
- Text path: seed-shaped documents (a title and 19 paragraphs taken from the development sets'
  gold texts, with planted copies) through `pipeline run --workers 1`; documents/s and
  paragraphs/s per stage.
- Start-up: `pipeline --help`, `pipeline run` on one small file, and a no-op `dvc repro` in a
  throwaway copy of the repository (median of 5).
The load average is printed with each round: the machine may be shared. `--write` writes the
tables to benchmarks/results/speed.md.
"""

from __future__ import annotations

import argparse
import gzip
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
BENCH = ROOT.parent / "shared" / "data" / "bench"
RESULTS = ROOT / "benchmarks" / "results" / "speed.md"
STAGES = ("ingest", "extract", "strip", "dedup", "export")
# What the pipeline asks of trafilatura (pipeline/stages/extract.py), for the like-for-like loop.
SAME_OPTIONS = {"include_comments": False, "with_metadata": True, "include_tables": True,
                "include_links": True, "deduplicate": False,
                "date_extraction_params": {"original_date": True, "extensive_search": True,
                                           "max_date": "2100-12-31"}}
DEFAULTS = {"include_comments": False, "deduplicate": False}


class SeedShaped(CorpusMaker):
    """Text documents shaped like the seeds: a title line and about 20 paragraphs."""

    def _article(self) -> str:
        body = [self.rng.choice(self.paras) for _ in range(19)]
        title = " ".join(self.rng.choice(self.vocab) for _ in range(self.rng.randint(5, 10))).capitalize()
        return "\n\n".join([title, *body]) + "\n"


def _load() -> tuple[float, float, float]:
    return os.getloadavg()


def _timed(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, str]:
    """(wall seconds, stdout) of a child process, which must succeed."""
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=cwd, env=env)
    wall = time.perf_counter() - start
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr[-3000:]}")
    return wall, res.stdout


def child_run(raw: Path, out: Path, workers: int) -> None:
    """In a child: the whole pipeline, printing each stage's seconds and work as JSON."""
    from pipeline import hugepages, nopandas

    nopandas.keep_pyarrow_from_pandas()  # as `pipeline run` does
    hugepages.disable()  # as `pipeline run` does by default
    from pipeline import runner
    from pipeline.params import load_params

    shutil.rmtree(out, ignore_errors=True)
    results, times = runner.run_all_timed(raw, out, load_params(ROOT / "params.yaml"), workers)
    stages = {t.stage: {"seconds": t.seconds, "cpu": t.cpu_seconds, "items": t.items} for t in times}
    print(json.dumps({"stages": stages, "documents": results["ingest"]["inputs"],
                      "paragraphs": results["extract"]["paragraphs"]}))


def child_trafilatura(folder: Path, options: str, part: int = 0, parts: int = 1) -> None:
    """In a child: trafilatura.extract over every page of `folder` in name order (every `parts`-th
    from `part`, as one of `parts` processes sharing them)."""
    import trafilatura

    kwargs = SAME_OPTIONS if options == "same" else DEFAULTS
    pages = sorted(folder.glob("*.html"))[part::parts]
    n = sum(trafilatura.extract(p.read_bytes(), **kwargs) is not None for p in pages)
    print(json.dumps({"pages_with_text": n}))


def _run_pipeline(raw: Path, out: Path, workers: int) -> dict[str, object]:
    wall, stdout = _timed([sys.executable, "-m", "benchmarks.speed", "--child-run", str(raw), str(out),
                           str(workers)], cwd=ROOT)
    return {"wall": wall, **json.loads(stdout.strip().splitlines()[-1])}


def _run_trafilatura(folder: Path, options: str) -> float:
    return _timed([sys.executable, "-m", "benchmarks.speed", "--child-trafilatura", str(folder), options],
                  cwd=ROOT)[0]


def trafilatura_shared(folder: Path, parts: int) -> tuple[float, float]:
    """(wall seconds, the children's CPU seconds) of `parts` trafilatura children (same options)
    sharing the pages, started together: how far extraction alone scales to `parts` processes
    here, the ceiling for `--workers parts`."""
    cmd = [sys.executable, "-m", "benchmarks.speed", "--child-trafilatura", str(folder), "same"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    procs = [subprocess.Popen([*cmd, str(k), str(parts)], cwd=ROOT, stdout=subprocess.DEVNULL)
             for k in range(parts)]
    if any(p.wait() != 0 for p in procs):
        raise RuntimeError("a trafilatura child failed")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def html_round(html: Path, work: Path, with_defaults: bool) -> dict[str, object]:
    """One round: trafilatura's loop, `pipeline run` with 1 and with 2 workers, trafilatura in
    two processes, then the same four in reverse order. Each figure compared is the mean of its
    pair, so a machine that slows down (or speeds up) steadily over the round biases no ratio:
    on this shared VM, trafilatura's loop took from 37.0 to 46.0 s within one run."""
    load = _load()[0]
    timers = {"trafilatura_same": lambda: _run_trafilatura(html, "same"),
              "w1": lambda: _run_pipeline(html, work / "out_html_w1", 1),
              "w2": lambda: _run_pipeline(html, work / "out_html_w2", 2),
              "trafilatura_same_2p": lambda: trafilatura_shared(html, 2)[0]}
    rnd: dict[str, object] = {key: [] for key in timers}
    for key in [*timers, *reversed(timers)]:
        rnd[key].append(timers[key]())
    if with_defaults:
        rnd["trafilatura_defaults"] = _run_trafilatura(html, "defaults")
    rnd["load"] = (load, _load()[0])
    return rnd


def _mean_wall(values: list) -> float:
    """The mean of a round's pair of timings (seconds, or a pipeline run's record)."""
    return statistics.fmean(v["wall"] if isinstance(v, dict) else v for v in values)


def write_pages(bench: Path, folder: Path, limit: int | None) -> int:
    """The development pages, decompressed, as `<set>_<id>.html`; `limit`: the first N by page id
    (ids are hashes, so both sets are in any prefix)."""
    found = (p for s in ("scrapinghub", "wcxb-articles") for p in (bench / s / "html").glob("*.html.gz"))
    paths = sorted(found, key=lambda p: p.name)[:limit]
    folder.mkdir(parents=True, exist_ok=True)
    for p in paths:
        (folder / f"{p.parent.parent.name}_{p.name[:-3]}").write_bytes(gzip.decompress(p.read_bytes()))
    return len(paths)


def _pipeline_cmd() -> list[str]:
    script = Path(sys.executable).parent / "pipeline"  # the console script users call
    return [str(script)] if script.is_file() else [sys.executable, "-m", "pipeline"]


def _venv_env() -> dict[str, str]:
    # DVC runs `pipeline ...` through the shell: this interpreter's scripts first on PATH.
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _dvc_copy(work: Path) -> Path:
    """A throwaway copy of the repository's tracked files, reproduced once (the real run)."""
    repo = work / "repo"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in files.stdout.splitlines():
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    _timed([str(Path(sys.executable).parent / "dvc"), "repro", "-q"], cwd=repo, env=_venv_env())
    return repo


def startup(work: Path, repeats: int = 5) -> dict[str, float]:
    """Medians of `repeats` runs: --help, a run on one small file, a no-op dvc repro."""
    one = work / "one"
    one.mkdir(parents=True, exist_ok=True)
    shutil.copy2(sorted((ROOT / "raw").glob("*.txt"))[0], one)
    repo = _dvc_copy(work)
    dvc = [str(Path(sys.executable).parent / "dvc"), "repro", "-q"]
    cases = {"pipeline --help": lambda: _timed([*_pipeline_cmd(), "--help"])[0],
             "pipeline run (one small file)": lambda: _timed(
                 [*_pipeline_cmd(), "-q", "run", str(one), "--out", str(work / "one_out")])[0],
             "dvc repro (no-op)": lambda: _timed(dvc, cwd=repo, env=_venv_env())[0]}
    return {name: statistics.median(run() for _ in range(repeats)) for name, run in cases.items()}


def _med(values: list[float]) -> float:
    return statistics.median(values)


def _stage_rows(runs: list[dict], docs: int, paras: int) -> list[str]:
    """Median seconds per stage over runs, its share of the stages' total, the run process's CPU
    seconds (all its threads; not worker processes'), docs/s and paras/s."""
    sec = {s: _med([r["stages"][s]["seconds"] for r in runs]) for s in STAGES}
    cpu = {s: _med([r["stages"][s]["cpu"] for r in runs]) for s in STAGES}
    total = sum(sec.values())
    rows = ["| stage | seconds (median) | share | CPU s, run process (median) | documents/s | paragraphs/s |",
            "|---|---:|---:|---:|---:|---:|"]
    rows += [f"| {s} | {sec[s]:.2f} | {sec[s] / total:.0%} | {cpu[s]:.2f} | {docs / sec[s]:,.0f} | "
             f"{paras / sec[s]:,.0f} |" for s in STAGES]
    rows.append(f"| all stages | {total:.2f} | 100% | {sum(cpu.values()):.2f} | {docs / total:,.0f} | "
                f"{paras / total:,.0f} |")
    return rows


def html_report(rounds: list[dict], n_pages: int) -> list[str]:
    lines = [f"## HTML path: {n_pages} development pages\n",
             "| round | trafilatura, same options s | trafilatura, defaults s | pipeline 1 worker s | "
             "pipeline 2 workers s | 1 worker / trafilatura same | 1 worker / defaults | "
             "2 workers speed-up | trafilatura alone, 2 processes s | its speed-up | load before, after |",
             "|---" * 11 + "|"]
    means = [{k: _mean_wall(r[k]) for k in ("trafilatura_same", "w1", "w2", "trafilatura_same_2p")}
             for r in rounds]
    for i, (r, m) in enumerate(zip(rounds, means, strict=True), 1):
        same, dflt, w1, w2 = m["trafilatura_same"], r.get("trafilatura_defaults"), m["w1"], m["w2"]
        dflt_s, dflt_ratio = (f"{dflt:.1f}", f"{w1 / dflt:.2f}") if dflt else ("-", "-")
        lines.append(f"| {i} | {same:.1f} | {dflt_s} | {w1:.1f} | {w2:.1f} | {w1 / same:.2f} | "
                     f"{dflt_ratio} | {w1 / w2:.2f}x | {m['trafilatura_same_2p']:.1f} | "
                     f"{same / m['trafilatura_same_2p']:.2f}x | {r['load'][0]:.1f}, {r['load'][1]:.1f} |")
    ratio = _med([m["w1"] / m["trafilatura_same"] for m in means])
    speedup = _med([m["w1"] / m["w2"] for m in means])
    traf2 = _med([m["trafilatura_same"] / m["trafilatura_same_2p"] for m in means])
    lines += ["", f"- median ratio, pipeline (1 worker) / trafilatura.extract with the same options: "
              f"**{ratio:.3f}** (target at most 1.10: {'met' if ratio <= 1.10 else 'NOT met'})",
              f"- median speed-up of 2 workers over 1: **{speedup:.3f}x** "
              f"(target at least 1.8: {'met' if speedup >= 1.8 else 'NOT met'})",
              f"- median speed-up of trafilatura alone, 2 processes over 1 in the same rounds (the "
              f"ceiling for 2 workers on this machine): {traf2:.3f}x",
              "", "Time per stage, pipeline with 1 and with 2 workers (seconds inside the run, "
              "medians of every run; the child's wall clock above also has interpreter start-up and "
              "imports):", ""]
    runs = {w: [run for r in rounds for run in r[w]] for w in ("w1", "w2")}
    first = runs["w1"][0]
    return [*lines, "1 worker:", "", *_stage_rows(runs["w1"], first["documents"], first["paragraphs"]),
            "", "2 workers:", "", *_stage_rows(runs["w2"], first["documents"], first["paragraphs"])]


def text_report(runs: list[dict]) -> list[str]:
    docs, paras = runs[0]["documents"], runs[0]["paragraphs"]
    rows = _stage_rows(runs, docs, paras)
    sec = {s: _med([r["stages"][s]["seconds"] for r in runs]) for s in STAGES}
    total = sum(sec.values())
    worst = max((s for s in STAGES if s != "dedup"), key=lambda s: sec[s])
    whole, dedup = paras / total, paras / sec["dedup"]
    cpu = {s: _med([r["stages"][s]["cpu"] for r in runs]) for s in STAGES}
    cpu_total = sum(cpu.values())
    loads = ", ".join(f"{r['load'][0]:.1f}" for r in runs)
    return [f"## Text path: {docs:,} seed-shaped documents, {paras:,} paragraphs, 1 worker\n", *rows, "",
            f"- largest stage other than dedup: {worst}, {sec[worst] / total:.0%} of the total "
            f"(target at most 25%: {'met' if sec[worst] / total <= 0.25 else 'NOT met'})",
            f"- whole run {whole:,.0f} paragraphs/s against dedup's own {dedup:,.0f}: {whole / dedup:.3f} "
            f"(target at least 0.5: {'met' if whole / dedup >= 0.5 else 'NOT met'})",
            f"- the same in CPU seconds of the run process (Parquet is encoded on background threads "
            f"while the next batch is computed): largest stage but dedup {cpu[worst] / cpu_total:.0%}, "
            f"dedup / all stages {cpu['dedup'] / cpu_total:.3f}",
            f"- load average before each run: {loads}"]


def startup_report(figures: dict[str, float]) -> list[str]:
    limits = {"pipeline --help": 0.3, "pipeline run (one small file)": 1.5, "dvc repro (no-op)": 1.0}
    lines = ["## Start-up (median of 5, wall clock of the command)\n", "| command | seconds | target |",
             "|---|---:|---|"]
    lines += [f"| {k} | {v:.2f} | under {limits[k]} s: {'met' if v < limits[k] else 'NOT met'} |"
              for k, v in figures.items()]
    return [*lines, f"\nload average: {_load()[0]:.1f}"]


def _parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="rounds of every timing (medians are quoted)")
    ap.add_argument("--limit", type=int, default=None,
                    help="only the first N development pages (a quick check)")
    ap.add_argument("--text-docs", type=int, default=4000, help="seed-shaped documents for the text path")
    ap.add_argument("--bench", type=Path, default=BENCH)
    ap.add_argument("--work", type=Path, default=Path("/tmp/pipeline_speed"))
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    ap.add_argument("--child-run", nargs=3, metavar=("RAW", "OUT", "WORKERS"), help=argparse.SUPPRESS)
    ap.add_argument("--child-trafilatura", nargs="+", metavar="FOLDER OPTIONS [PART PARTS]",
                    help=argparse.SUPPRESS)
    return ap.parse_args()


def main() -> None:
    args = _parse()
    if args.child_run:
        from pipeline.cli import exit_now

        child_run(Path(args.child_run[0]), Path(args.child_run[1]), int(args.child_run[2]))
        exit_now(0)  # as the `pipeline` command ends, so that the wall clock is the command's
    if args.child_trafilatura:
        folder, options, *share = args.child_trafilatura
        return child_trafilatura(Path(folder), options, *(int(x) for x in share))
    start = time.perf_counter()
    shutil.rmtree(args.work, ignore_errors=True)
    n_pages = write_pages(args.bench, args.work / "html", args.limit)
    SeedShaped(7, 0.0).write(args.work / "text", args.text_docs)
    html_rounds, text_runs = [], []
    for i in range(args.runs):
        html_rounds.append(html_round(args.work / "html", args.work, with_defaults=i == 0))
        text_runs.append({**_run_pipeline(args.work / "text", args.work / "out_text", 1), "load": _load()})
        print(json.dumps({"round": i + 1, "html": html_rounds[-1], "text": text_runs[-1]}), flush=True)
    figures = startup(args.work)
    report = ["# Speed: the whole pipeline against extraction alone\n",
              f"`python -m benchmarks.speed --runs {args.runs}"
              + (f" --limit {args.limit}" if args.limit else "")
              + f" --text-docs {args.text_docs}` on {os.cpu_count()} cores; every figure is a child "
              f"process's, from this one run ({time.perf_counter() - start:.0f} s in all).\n",
              *html_report(html_rounds, n_pages), "", *text_report(text_runs), "", *startup_report(figures)]
    text = "\n".join(report) + "\n"
    print(text)
    if args.write:
        RESULTS.write_text(text, encoding="utf-8")
    shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
