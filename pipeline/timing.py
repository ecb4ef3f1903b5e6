"""Where the time of a run goes: wall and CPU seconds per stage, logged, never written to an output.

CPU seconds are this process's, all its threads (Parquet is encoded on background threads while
the next batch is computed, so a stage's CPU may exceed its wall clock); worker processes' CPU is
not in them.

Timings differ from run to run, so they stay out of every file DVC hashes (stage outputs and
metrics/*.json must be byte-identical across runs): each stage logs its own line, and
`pipeline run` logs one table of every stage at the end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger("pipeline.timing")
T = TypeVar("T")

# The counter of each stage's metrics that says how much it was given, and in what unit.
WORK = {"ingest": ("inputs", "inputs"), "extract": ("documents_in", "docs"),
        "strip": ("paragraphs_in", "paras"), "dedup": ("paragraphs_in", "paras"),
        "export": ("input_documents", "docs")}


@dataclass(frozen=True)
class StageTime:
    stage: str
    seconds: float
    items: int | None  # what the stage was given (WORK), when its counters say
    unit: str
    cpu_seconds: float | None = None  # this process's, all threads

    @property
    def rate(self) -> str:
        if self.items is None or self.seconds <= 0:
            return "n/a"
        return f"{self.items / self.seconds:,.0f} {self.unit}/s"


def timed(stage: str, step: Callable[[], T]) -> tuple[T, StageTime]:
    """Run one stage's entry point and log how long it took and how fast it went."""
    start, cpu = time.perf_counter(), time.process_time()
    result = step()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    key, unit = WORK.get(stage, ("", ""))
    items = result.get(key) if isinstance(result, dict) else None
    st = StageTime(stage, seconds, items if isinstance(items, int) else None, unit, cpu)
    log.info("%s: %.2f s, %.2f s CPU (%s)", stage, seconds, cpu, st.rate)
    return result, st


def table(times: list[StageTime]) -> str:
    """A Markdown table: seconds, share of the run, CPU seconds of this process and throughput per
    stage, then the total."""
    total = sum(t.seconds for t in times) or 1e-9
    lines = ["| stage | seconds | share | CPU s, this process | throughput |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {t.stage} | {t.seconds:.2f} | {t.seconds / total:.0%} | {_cpu(t.cpu_seconds)} | {t.rate} |"
              for t in times]
    cpus = [t.cpu_seconds for t in times]
    lines.append(f"| total | {sum(t.seconds for t in times):.2f} | 100% | "
                 f"{_cpu(None if None in cpus else sum(c or 0.0 for c in cpus))} | |")
    return "\n".join(lines)


def _cpu(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:.2f}"
