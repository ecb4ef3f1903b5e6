"""A run killed with SIGKILL in the middle of any stage leaves no partial output file, and the
next run completes with byte-identical results to a run that was never interrupted."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import RAW, ROOT, env_tmpdir

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL")

# Kill as soon as one of these appears under OUT: a stage's temporary output (the stage is
# writing), or the metrics of the stage before (the next stage has just started).
TRIGGERS = ["stages/ingest/.documents.parquet.*.tmp", "stages/extract/.paragraphs.parquet.*.tmp",
            "metrics/extract.json", "stages/strip/.paragraphs.parquet.*.tmp", "metrics/strip.json",
            "metrics/dedup.json", "delay:0", "delay:1"]


def _cli(raw: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", "-q", "run", str(raw), "--out", str(out),
                             "--params", str(ROOT / "params.yaml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env_tmpdir(out.parent / "mp-tmp"))


def _kill_when(proc: subprocess.Popen, out: Path, trigger: str, delay: float) -> bool:
    """SIGKILL the run when `trigger` appears (or after `delay` s); False if it finished first."""
    start = time.monotonic()
    while proc.poll() is None:
        hit = (time.monotonic() - start >= delay) if trigger.startswith("delay:") \
            else any(out.glob(trigger))
        if hit:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.002)
    return False


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _assert_nothing_partial(out: Path) -> None:
    """Every file a reader would open is complete; temporaries are dot-files ending in .tmp, and
    dedup's band keys and the paragraphs signed ahead are in `.work-*` and `.presign-*` folders
    that the next run deletes."""
    for p in out.rglob("*"):
        if not p.is_file() or (p.name.startswith(".") and p.name.endswith(".tmp")):
            continue
        if any(part.startswith((".work-", ".presign-")) for part in p.relative_to(out).parts):
            continue
        if p.suffix == ".parquet":
            pq.read_table(p)  # a torn file fails here (no footer)
        elif p.suffix == ".json":
            json.loads(p.read_text(encoding="utf-8"))
        else:
            raise AssertionError(f"unexpected file {p}")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    for p in RAW.iterdir():
        shutil.copy(p, raw / p.name)
    seeds = [p.read_text(encoding="utf-8").splitlines() for p in sorted(RAW.glob("*.txt"))]
    rng = random.Random(6)
    for i in range(300):  # enough documents that each stage takes a moment
        lines = [line for doc in rng.sample(seeds, 2) for line in rng.sample(doc, min(6, len(doc)))]
        (raw / f"gen_{i:03d}.txt").write_text(f"Generated headline number {i} for this test\n"
                                              + "\n".join(lines) + "\n", encoding="utf-8")
    return raw


def test_killed_runs_leave_no_partial_file_and_the_next_run_is_identical(corpus: Path,
                                                                           tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    start = time.monotonic()
    proc = _cli(corpus, reference)
    assert proc.wait() == 0, proc.stderr.read() if proc.stderr else ""
    duration = time.monotonic() - start
    out, rng, killed = tmp_path / "out", random.Random(6), []
    for trigger in TRIGGERS:  # each run starts on what the killed one before it left
        proc = _cli(corpus, out)
        if _kill_when(proc, out, trigger, rng.uniform(0.3, duration)):
            killed.append(trigger)
        _assert_nothing_partial(out)
    print("killed at", killed, "reference run", round(duration, 1), "s")
    assert len(killed) >= len(TRIGGERS) - 2, f"only killed at {killed}: the run finished first"
    proc = _cli(corpus, out)
    assert proc.wait() == 0, proc.stderr.read() if proc.stderr else ""
    assert _files(out) == _files(reference)  # also: no temporary file is left
