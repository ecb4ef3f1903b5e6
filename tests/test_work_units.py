"""Extract shares its batches out in slices of `extract.batch_size` documents and merges each
batch back: the files written must not depend on the slice size or on the number of workers."""

from __future__ import annotations

import dataclasses
import pickle
import shutil
from pathlib import Path

import pyarrow as pa
from conftest import RAW

from pipeline import pool, runner
from pipeline.params import Params


def _rows(batch: pa.Table) -> dict:
    return {"n": batch.num_rows, "ids": batch.column("x").to_pylist()}


def _merge(parts: list[dict]) -> dict:
    return {"n": sum(p["n"] for p in parts), "ids": [i for p in parts for i in p["ids"]]}


def test_split_map_merges_each_batch_back_in_order() -> None:
    batches = [pa.table({"x": list(range(start, start + n))}) for start, n in ((0, 7), (7, 0), (7, 3))]
    for workers in (1, 2):
        merged = list(pool.split_map(_rows, batches, 2, workers, _merge))
        assert merged == [{"n": 7, "ids": list(range(7))}, {"n": 0, "ids": []},
                          {"n": 3, "ids": [7, 8, 9]}]


def test_slices_shrink_near_the_end_so_workers_finish_together() -> None:
    # Far from the end: full slices. Near it: at most a quarter of a worker's share of what is
    # left, down to single rows, so no worker is left alone with a slow slice of 32 pages.
    assert pool.tail_starts(90, 32, 804, 2) == [0, 32, 64]
    starts = pool.tail_starts(90, 32, 90, 2)
    sizes = [b - a for a, b in zip(starts, [*starts[1:], 90], strict=True)]
    assert sizes[0] == 12 and sizes[-7:] == [1] * 7 and sizes == sorted(sizes, reverse=True)
    assert pool.tail_starts(0, 32, 0, 2) == [0]  # an empty batch is still one (empty) slice


def test_split_map_with_a_total_merges_the_same_batches() -> None:
    batches = [pa.table({"x": list(range(start, start + n))}) for start, n in ((0, 40), (40, 0), (40, 9))]
    plain = list(pool.split_map(_rows, batches, 8, 2, _merge))
    assert list(pool.split_map(_rows, batches, 8, 2, _merge, total=49)) == plain
    assert [m["n"] for m in plain] == [40, 0, 9]


def test_a_slice_sent_to_a_worker_carries_only_its_own_rows() -> None:
    # An Arrow slice pickles its parent's whole buffers: every 32-page slice shipped its batch.
    batch = pa.table({"x": list(range(1000)), "text": [f"page {i} " * 50 for i in range(1000)]})
    part = pool.cut(batch, 990, 32)
    assert part.equals(batch.slice(990, 32)) and part.num_rows == 10
    assert len(pickle.dumps(part)) * 20 < len(pickle.dumps(batch.slice(990, 32)))


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "stages" / "extract").glob("*.parquet"))}


def test_extract_files_do_not_depend_on_the_slice_size(tmp_path: Path, params: Params) -> None:
    base = tmp_path / "base"
    runner.run_ingest(RAW, base, params)
    outs = {}
    for size, workers in ((1000, 1), (2, 1), (3, 2)):
        out = tmp_path / f"s{size}w{workers}"
        shutil.copytree(base / "stages" / "ingest", out / "stages" / "ingest")
        sliced = dataclasses.replace(params, extract=dataclasses.replace(params.extract, batch_size=size))
        counters = runner.run_extract(out, sliced, workers)
        outs[(size, workers)] = (_files(out), counters)
    first = outs[(1000, 1)]
    assert len(first[0]) == 3 and first[1]["documents_in"] > 1
    assert all(files == first for files in outs.values())


def test_slices_by_key_never_cut_a_run_of_equal_keys() -> None:
    batch = pa.table({"d": ["a", "a", "b", "c", "c", "c", "d", "e"]})
    assert pool.slice_starts(batch, 2, "d") == [0, 3, 7]
    assert pool.slice_starts(batch, 1, "d") == [0, 2, 3, 6, 7]
    assert pool.slice_starts(batch, 10, "d") == [0]
    assert pool.slice_starts(batch, 3) == [0, 3, 6]


def test_strip_files_do_not_depend_on_the_workers(tmp_path: Path, params: Params) -> None:
    """Strip's slices are two per worker (2, 1 and 1 documents per slice here); the pool runs
    even for this small corpus (`parallel_min_paragraphs` 0)."""
    base = tmp_path / "base"
    runner.run_ingest(RAW, base, params)
    runner.run_extract(base, params)
    pooled = dataclasses.replace(params, strip=dataclasses.replace(params.strip, parallel_min_paragraphs=0))
    outs = {}
    for workers in (1, 2, 5):
        out = tmp_path / f"w{workers}"
        for stage in ("ingest", "extract"):
            shutil.copytree(base / "stages" / stage, out / "stages" / stage)
        counters = runner.run_strip(out, pooled, workers)
        files = {p.name: p.read_bytes() for p in sorted((out / "stages" / "strip").glob("*.parquet"))}
        outs[workers] = (files, counters)
    first = outs[1]
    assert first[0] and first[1]["removed"] > 0
    assert all(found == first for found in outs.values())
