"""Command line: `pipeline run RAW_DIR --out OUT_DIR` and one subcommand per stage (what DVC calls)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

from pipeline import __version__, stopping
from pipeline.audit import commands as audit

log = logging.getLogger("pipeline")
DEFAULT_PARAMS = Path("params.yaml")
# The commands that end holding a run's data, when they run here (not `--engine ray`, whose
# shutdown is Ray's own): they end without the interpreter's teardown (`exit_now`).
_QUICK_EXIT = frozenset({"run", "ingest", "extract", "strip", "dedup", "export"})


def _add_common(p: argparse.ArgumentParser, out_default: str | None = "clean") -> None:
    p.add_argument("--out", type=Path, default=None if out_default is None else Path(out_default),
                   required=out_default is None,
                   help="output folder (stage outputs under OUT/stages, metrics under OUT/metrics)")
    p.add_argument("--params", type=Path, default=None,
                   help="params YAML (default: ./params.yaml if present, else built-in defaults)")
    p.add_argument("--huge-pages", action="store_true",
                   help="let the kernel back memory with transparent huge pages (by default the "
                        "pipeline's processes go without: see pipeline/hugepages.py)")


def _workers(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, not {value!r}")
    return n


def _add_workers(p: argparse.ArgumentParser) -> None:
    from pipeline.pool import default_workers

    p.add_argument("--workers", type=_workers, default=default_workers(), metavar="N",
                   help="processes for the per-document work (default: all cores, here "
                        f"{default_workers()}); the output is the same for any N")
    _add_engine(p)


def _add_engine(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="where the per-document stages and dedup's shard phases run: local processes, "
                        "or Ray (needs the [ray] extra; export runs locally)")
    p.add_argument("--ray-address", metavar="ADDR", default=None,
                   help="with --engine ray: the Ray cluster to join (e.g. ray://head:10001 or auto); "
                        "default: start a local Ray with --workers CPUs")
    p.add_argument("--work-dir", metavar="URI", default=None,
                   help="with --engine ray: where the batch shards go, a path or URI every node can "
                        "reach (e.g. s3://bucket/run1); default: OUT/ray-work")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline", description=(
        "Turn scraped news pages into a clean, deduplicated, traceable text dataset."))
    parser.add_argument("--version", action="version", version=f"pipeline {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging (and trafilatura's warnings about page markup)")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run every stage on RAW_DIR and write OUT_DIR")
    run.add_argument("raw_dir", type=Path, metavar="RAW_DIR")
    _add_common(run, out_default=None)
    _add_workers(run)
    ing = sub.add_parser("ingest", help="stage 1: read and decode every file (or record) of RAW_DIR")
    ing.add_argument("raw_dir", type=Path, metavar="RAW_DIR")
    _add_common(ing)
    _add_workers(ing)
    for name, text in (("extract", "stage 2: main text and paragraphs with offsets"),
                       ("strip", "stage 3: mark site chrome by rule"),
                       ("dedup", "stage 4: mark exact and near-duplicate paragraphs"),
                       ("export", "stage 5: write articles, paragraphs and rejects")):
        stage = sub.add_parser(name, help=text)
        _add_common(stage)
        if name in ("extract", "strip", "dedup"):  # the stages with work over batches or shards
            _add_workers(stage)
    audit.add_parsers(sub)
    return parser


def _load(args: argparse.Namespace):
    from pipeline.params import load_params

    path = args.params
    if path is None and DEFAULT_PARAMS.is_file():
        path = DEFAULT_PARAMS
    return load_params(path)


def _dispatch(args: argparse.Namespace) -> None:
    from pipeline import runner

    if args.command in audit.COMMANDS:  # audit commands read a finished run, not params
        return audit.dispatch(args)
    from pipeline import timing

    params = _load(args)
    if not args.huge_pages:
        from pipeline import hugepages

        hugepages.disable()
    if getattr(args, "engine", "local") == "ray":
        from pipeline import ray_engine

        ray_engine.run(args.command, args.out, params, args.workers, getattr(args, "raw_dir", None),
                       args.ray_address, args.work_dir)
    elif args.command == "run":
        runner.run_all(args.raw_dir, args.out, params, args.workers)
    elif args.command == "ingest":
        timing.timed("ingest", lambda: runner.run_ingest(args.raw_dir, args.out, params, args.workers))
    elif args.command in ("extract", "strip", "dedup"):
        stage = getattr(runner, f"run_{args.command}")
        timing.timed(args.command, lambda: stage(args.out, params, args.workers))
    else:
        stage = getattr(runner, f"run_{args.command}")
        timing.timed(args.command, lambda: stage(args.out, params))


def main(argv: list[str] | None = None) -> int:
    return _main(argv)[0]


def _main(argv: list[str] | None) -> tuple[int, bool]:
    """(exit code, whether the process may end without the interpreter's teardown); a run
    stopped by a signal gives minus its number, as `subprocess` reports a process it killed."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "engine", "local") == "local" and (
            getattr(args, "ray_address", None) or getattr(args, "work_dir", None)):
        parser.error("--ray-address and --work-dir are for --engine ray")  # not silently ignored
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    from pipeline import logsetup

    logsetup.configure(level)
    from pipeline.export_errors import USER_ERRORS

    quick = args.command in _QUICK_EXIT and getattr(args, "engine", "local") == "local"
    if quick:  # the stage commands hand pyarrow no pandas object (see pipeline/nopandas.py)
        from pipeline import nopandas

        nopandas.keep_pyarrow_from_pandas()
    try:
        with stopping.sigterm_raises():
            _dispatch(args)
    except USER_ERRORS as exc:
        log.error("%s", exc)
        return 2, quick
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (`stopping.Stopped`): no traceback
        signum = stopping.signum_of(exc)
        stages = args.command not in audit.COMMANDS  # audit commands only read a finished run
        if stages and getattr(args, "out", None) is not None:
            from pipeline.parquet_io import remove_unfinished

            remove_unfinished(args.out)
        log.error("%s", stopping.describe(signum, stages))
        return -signum, quick
    return 0, quick


def entry() -> NoReturn:
    """The `pipeline` command (and `python -m pipeline`)."""
    code, quick = _main(None)
    if quick:
        exit_now(code)
    raise SystemExit(_shell_status(code))


def _shell_status(code: int) -> int:
    """The exit status for `code`; a stop (minus a signal) as a shell reports it, 128 + signal."""
    return code if code >= 0 else 128 - code


def exit_now(code: int) -> NoReturn:
    """End the process once its output is flushed, skipping the interpreter's teardown.

    Every output is written and renamed into place, every pool and extraction process has been
    joined, by the time a stage returns; what is left is freeing each of the run's objects one by
    one and unloading modules, 0.05 to 0.14 s at the end of every stage command and of
    `pipeline run` (measured from the end of `main` to the process's exit: `pipeline run` on the
    804 pages, the 4,000 text documents and raw/; each stage command on the text documents). A
    fork server left running sees its pipe close and exits. multiprocessing's own exit handler
    still runs, as it would at a normal exit. A negative `code` (a run stopped by a signal):
    the process ends killed by that signal.
    """
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        # What multiprocessing does at exit, which os._exit skips: above all, remove the folder
        # it made for the fork server's socket (a /tmp/pymp-* was left behind by every run that
        # started one: 467 had piled up on the development machine).
        mp_util._exit_function()
    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: let the interpreter's own exit report it
        raise SystemExit(_shell_status(code)) from None
    if code < 0:
        stopping.die_by(-code)
    os._exit(code)
