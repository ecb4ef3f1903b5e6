"""`pipeline diff|show|report`: argument parsing and the thin I/O around the pure renderers.

Importing this module is cheap (no pandas, no pyarrow), so `pipeline --help` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

COMMANDS = ("diff", "show", "report")
DIFF_STAGES = ("ingest", "extract", "strip", "dedup", "all")
log = logging.getLogger(__name__)


def _context(value: str) -> int:
    n = int(value)
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {n}")
    return n


def _out(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("clean"),
                   help="the run's output folder (default: clean)")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    diff = sub.add_parser("diff", help="a document's text before and after each stage, with reasons")
    diff.add_argument("doc_id", metavar="DOC_ID")
    diff.add_argument("--stage", choices=DIFF_STAGES, default="all",
                      help="the stage to diff (default: all, in pipeline order)")
    _out(diff)
    diff.add_argument("--raw", type=Path, default=Path("raw"),
                      help="raw folder the run read, for the ingest diff (default: raw)")
    diff.add_argument("--context", type=_context, default=3, help="paragraphs of context (default: 3)")
    diff.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="ANSI colours: auto (when stdout is a terminal), always, never")
    show = sub.add_parser("show", help="a document's clean text with its provenance and counts per stage")
    show.add_argument("doc_id", metavar="DOC_ID")
    _out(show)
    report = sub.add_parser("report", help="write OUT/report.html (self-contained) and "
                                           "OUT/plots/removals_by_rule.csv")
    _out(report)


def _write(text: str) -> None:
    # Scraped text can hold any character: never let the terminal's encoding abort the output.
    sys.stdout.buffer.write(text.encode("utf-8", errors="replace"))
    sys.stdout.flush()


def _diff(args: argparse.Namespace) -> None:
    from pipeline.audit.diff import document_diff, render
    from pipeline.audit.load import load_document

    rec = load_document(args.out, args.doc_id, args.raw)
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    _write(render(document_diff(rec, args.stage, args.context), colour))


def _show(args: argparse.Namespace) -> None:
    from pipeline.audit.load import load_document
    from pipeline.audit.show import render_show

    _write(render_show(load_document(args.out, args.doc_id)))


def _report(args: argparse.Namespace) -> None:
    from pipeline import parquet_io as pio
    from pipeline.audit.load import load_run
    from pipeline.audit.report import removals_by_rule_csv
    from pipeline.audit.report_html import build_report

    run = load_run(args.out)
    targets = {args.out / "report.html": build_report(run),
               args.out / "plots" / "removals_by_rule.csv": removals_by_rule_csv(run.paragraphs)}
    for path, text in targets.items():
        with pio.atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8", newline="\n")
        log.info("wrote %s", path)


def dispatch(args: argparse.Namespace) -> None:
    {"diff": _diff, "show": _show, "report": _report}[args.command](args)
