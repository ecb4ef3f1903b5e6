"""Sharded dedup: any shard size gives the same bytes as one shard, copies across shard boundaries
are found, and the stage's work folder is gone afterwards."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import dedup_run, schema
from pipeline.params import DedupParams
from pipeline.stages import dedup

WORDS = [
    "rail", "ministry", "tuesday", "spring", "delay", "fight", "cost", "council", "budget",
    "river", "bridge", "ferry", "mayor", "city", "harbour", "station", "tunnel", "tram", "depot",
    "signal", "platform", "timetable", "strike", "union",
]


def _planted(seed: int = 3) -> tuple[pa.Table, list[tuple[tuple[str, int], tuple[str, int]]]]:
    """40 documents of 6 paragraphs in scrambled document order; exact copies, near copies (one
    word changed out of 30) and short within-document repeats planted far apart."""
    rng = np.random.default_rng(seed)
    docs = {f"d{d:02d}": [" ".join(rng.choice(WORDS, 30)) for _ in range(6)] for d in range(40)}
    planted = []
    for d in range(0, 40, 4):
        src, dst = f"d{d:02d}", f"d{(d + 21) % 40:02d}"
        docs[dst][2] = docs[src][1].upper()  # exact copy (case and all)
        near = docs[src][3].split()
        near[15] = "ferryman"
        docs[dst][4] = " ".join(near)
        planted += [((src, 1), (dst, 2)), ((src, 3), (dst, 4))]
        docs[src][5] = docs[src][0] = f"Did you travel to {src} by train?"  # short, one document: kept
    order = rng.permutation(sorted(docs))
    rows = [{"doc_id": d, "para_idx": i, "text": t, "char_start": 0, "char_end": len(t), "status": "kept"}
            for d in order for i, t in enumerate(docs[d])]
    gone = next(r for r in rows if (r["doc_id"], r["para_idx"]) == ("d00", 2))  # not planted
    gone["status"], gone["stage"] = "removed", "strip"
    return pa.Table.from_pylist(rows, schema=schema.PARAGRAPHS), planted


def _run_files(src: Path, dest: Path, params: DedupParams) -> tuple[bytes, bytes, dict]:
    counters = dedup_run.run(src, dest, params, {}, lambda phase, k: None)
    assert sorted(p.name for p in dest.iterdir()) == ["dup_clusters.parquet", "paragraphs.parquet"]
    return ((dest / "paragraphs.parquet").read_bytes(), (dest / "dup_clusters.parquet").read_bytes(),
            json.loads(json.dumps(counters)))


@pytest.mark.parametrize("corpus", ["sample", "planted"])
def test_tiny_shards_give_the_same_bytes_as_one_shard(corpus: str, sample_out: Path, tmp_path: Path) -> None:
    if corpus == "sample":
        src = sample_out / "stages" / "strip" / "paragraphs.parquet"
    else:
        src = tmp_path / "strip.parquet"
        pq.write_table(_planted()[0], src, row_group_size=50)  # row groups that do not align with shards
    one = _run_files(src, tmp_path / "one", DedupParams(shard_rows=1 << 20))
    for shard_rows in (7, 64):
        assert _run_files(src, tmp_path / f"s{shard_rows}", DedupParams(shard_rows=shard_rows)) == one
    assert one[2]["removed"] >= (3 if corpus == "sample" else 20)


def test_copies_across_shard_boundaries_are_found(tmp_path: Path) -> None:
    table, planted = _planted()
    res = dedup.run(table, DedupParams(shard_rows=7))
    out = {(r["doc_id"], r["para_idx"]): r for r in res.tables["paragraphs"].to_pylist()}
    for pair in planted:
        first, copy = sorted(pair)  # the earliest by (doc_id, para_idx) survives
        assert out[copy]["status"] == "removed" and out[copy]["dup_of"] == f"{first[0]}:{first[1]}", copy
    rules = {out[max(pair)]["rule_id"] for pair in planted}
    assert rules == {"exact_duplicate_v1", "near_duplicate_minhash_v1"}
    assert all(out[(f"d{d:02d}", 5)]["status"] == "kept" for d in range(0, 40, 4))  # short, within
    assert res.tables["paragraphs"].equals(dedup.run(table, DedupParams()).tables["paragraphs"])


@pytest.mark.parametrize("change", [{"survivor": "longest_document"}, {"backend": "datasketch"},
                                    {"scope": "across_documents", "remove_contained_across_documents": True}])
def test_other_params_do_not_depend_on_shards_either(change: dict) -> None:
    table, _ = _planted(seed=5)
    p = dataclasses.replace(DedupParams(), **change)
    one = dedup.run(table, p)
    tiny = dedup.run(table, dataclasses.replace(p, shard_rows=5))
    assert tiny.tables["paragraphs"].equals(one.tables["paragraphs"])
    assert tiny.tables["dup_clusters"].equals(one.tables["dup_clusters"]) and tiny.counters == one.counters


def test_more_than_one_row_group_of_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dedup_run, "ROW_GROUP", 16)
    src = tmp_path / "strip.parquet"
    pq.write_table(_planted()[0], src)
    _run_files(src, tmp_path / "out", DedupParams(shard_rows=7))
    meta = pq.ParquetFile(tmp_path / "out" / "paragraphs.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [16] * 15
