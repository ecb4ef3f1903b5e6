"""`--workers N` runs the per-document stages in a process pool and writes the same bytes as one
worker; a page over the time limit in a pool worker is still an `extract_timeout` reject."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import RAW, ROOT, env_tmpdir

from pipeline import pool, runner, schema, tasks
from pipeline.params import ExtractParams, IngestParams, Params, StripParams
from pipeline.stages.extract import Extracted, extract_html

DATA = ROOT / "tests" / "data"
CHROME = ["Share this:", "Leave a Reply", "Related Stories", "Sign up for our newsletter"]


def _corpus(raw: Path, n_text: int = 220, n_html: int = 24, n_rows: int = 60, seed: int = 3) -> None:
    """The sample corpus, the container samples, and generated text, HTML and JSONL documents."""
    rng = random.Random(seed)
    shutil.copytree(RAW, raw)
    for name in ("sample.warc.gz", "sample.jsonl", "sample.parquet"):
        shutil.copy(DATA / name, raw / name)
    paras = [p for f in sorted(RAW.glob("*.txt")) for p in f.read_text(encoding="utf-8").splitlines()
             if len(p.split()) >= 6]
    pages = [f.read_bytes() for f in sorted(RAW.glob("*.html"))]
    vocab = sorted({w for p in paras for w in p.split() if w.isalpha()})
    (raw / "gen").mkdir()
    for i in range(n_text):
        own = " ".join(rng.choice(vocab) for _ in range(14))  # one paragraph no other document has
        body = [own, *rng.sample(paras, rng.randint(3, 9))] \
            + ([rng.choice(CHROME)] if rng.random() < 0.3 else [])
        (raw / "gen" / f"t{i:04d}.txt").write_text("\n".join(body) + "\n", encoding="utf-8")
    for i in range(n_html):
        page = rng.choice(pages)
        at = re.search(rb"<p[ >]", page)
        cut = at.start() if at else len(page)
        extra = f"<p>{' '.join(rng.choice(paras).split()[:25])} (note {i})</p>".encode()
        (raw / "gen" / f"h{i:04d}.html").write_bytes(page[:cut] + extra + page[cut:])
    rows = [{"id": f"r{i}", "text": "\n".join([" ".join(rng.choice(vocab) for _ in range(12)),
                                                *rng.sample(paras, 3)])} for i in range(n_rows)]
    (raw / "gen" / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    os.mkfifo(raw / "gen" / "pipe.txt")  # not a regular file: the same reject with 1 or 2 workers


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.suffix in {".parquet", ".json"}}


def test_two_workers_write_the_same_bytes_as_one(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    _corpus(raw)
    # Small batches, so that a corpus of ~300 documents makes a few dozen batches to share out;
    # extract's slices smaller still, so the workers read parts of ingest's row groups.
    params = Params(ingest=IngestParams(batch_size=16), extract=ExtractParams(batch_size=5),
                    strip=StripParams(parallel_min_paragraphs=0))  # strip's pool too, small as it is
    outs = {}
    for workers in (1, 2):
        outs[workers] = tmp_path / f"out{workers}"
        counters = runner.run_all(raw, outs[workers], params, workers=workers)
    assert counters["ingest"]["inputs"] > 300 and counters["export"]["articles"] > 250
    assert counters["ingest"]["rejects_by_reason"].get("not_a_regular_file") == 1
    one, two = _files(outs[1]), _files(outs[2])
    assert sorted(one) == sorted(two) and "articles.parquet" in one
    for name in one:
        assert one[name] == two[name], f"{name} differs between --workers 1 and --workers 2"


def slow_on_marker(html: str, params: ExtractParams) -> Extracted | None:
    """Module level, so a pool worker or a Ray actor can import it by name (test_ray uses it too)."""
    if "SLOW-MARKER" in html:
        time.sleep(60)
    return extract_html(html, params)


def raw_batch(*contents: str) -> pa.Table:
    rows = [{"doc_id": f"d{i}", "source_path": f"d{i}.html", "source_sha256": "0", "source_bytes": 0,
             "source_format": "html", "content": c} for i, c in enumerate(contents)]
    return pa.Table.from_pylist(rows, schema=schema.DOCUMENTS_RAW)


def test_a_timeout_inside_a_pool_worker_is_an_extract_timeout_reject() -> None:
    page = "<html><body><article><p>{}</p></article></body></html>"
    good = page.format("An ordinary paragraph of an article, long enough to be kept as its text. " * 3)
    task = tasks.ExtractTask(ExtractParams(timeout_seconds=2), slow_on_marker)
    start = time.monotonic()
    results = list(pool.ordered_map(task, [raw_batch(good), raw_batch(page.format("SLOW-MARKER"), good)], 2))
    assert time.monotonic() - start < 50  # the slow page was killed, not waited for
    assert results[0].counters["documents"] == 1
    rejects = results[1].tables["rejects"].to_pylist()
    assert [(r["doc_id"], r["reason_code"]) for r in rejects] == [("d0", "extract_timeout")]
    assert results[1].tables["documents"].column("doc_id").to_pylist() == ["d1"]


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_workers_must_be_a_positive_number(value: str, tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "pipeline", "run", str(RAW), "--out", str(tmp_path),
                          "--workers", value], capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 2 and "--workers: must be a whole number >= 1" in res.stderr


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        found.update(int(k) for k in kids)
        todo += [int(k) for k in kids]
    return found


def pool_corpus(tmp_path: Path) -> tuple[Path, Path]:
    """(raw folder, params file) of a corpus that `pipeline run --workers 2` runs through the
    extract pool: 190 files in ingest batches of 8."""
    raw = tmp_path / "raw"
    _corpus(raw, n_text=150, n_html=40, n_rows=0)
    params = tmp_path / "params.yaml"
    params.write_text("ingest:\n  batch_size: 8\n", encoding="utf-8")
    return raw, params


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_killing_the_run_leaves_no_worker_behind(tmp_path: Path) -> None:
    raw, params = pool_corpus(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "-q", "run", str(raw), "--out",
                             str(tmp_path / "out"), "--params", str(params), "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env_tmpdir(tmp_path / "mp-tmp"))
    seen: set[int] = set()
    deadline = time.monotonic() + 120
    # Wait for the extract pool: two workers, each with its own extraction process.
    while proc.poll() is None and time.monotonic() < deadline and len(seen) < 4:
        if (tmp_path / "out" / "metrics" / "ingest.json").exists():
            seen = _descendants(proc.pid)
        time.sleep(0.05)
    assert proc.poll() is None and len(seen) >= 4, "the run ended before its pool could be seen"
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in seen if _alive(p)], "pool workers outlived the killed run"
