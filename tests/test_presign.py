"""Dedup's signing done ahead (while strip runs) gives the same bytes as signing in dedup; parts
that are not those of strip's paragraphs, or a signing that failed, fall back to signing in
dedup; the folder of parts is gone after the run."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import RAW
from test_dedup_shards import _planted, _run_files

from pipeline import dedup_run, presign, runner
from pipeline.dedup.phases import index_rows, live_part, sign
from pipeline.params import DedupParams, Params

USED = "signed ahead, while strip ran, are used"


def test_a_live_part_equals_signing_the_live_rows_alone() -> None:
    table, _ = _planted()
    texts = table.column("text").to_pylist()
    p = DedupParams(backend="datasketch")  # so that the signatures are compared too
    ix = index_rows(table.select(["doc_id", "para_idx", "status"]))
    every = sign(texts, np.arange(len(texts)), p)
    live = np.flatnonzero(ix.row_at >= 0)
    assert len(live) == len(texts) - 1  # one paragraph was removed by strip
    alone = sign([texts[i] for i in live], ix.row_at[live], p)
    got = live_part(every, ix.row_at)
    for field in dataclasses.fields(got):
        assert np.array_equal(getattr(got, field.name), getattr(alone, field.name)), field.name


def _signed_ahead(src: Path, folder: Path, p: DedupParams) -> Path:
    folder.mkdir()
    n_parts = presign.PresignTask(p)((str(src), str(folder)))
    assert n_parts == -(-pq.ParquetFile(src).metadata.num_rows // p.shard_rows)
    return folder


def _run_ahead(src: Path, dest: Path, p: DedupParams, folder: Path) -> tuple[bytes, bytes, dict]:
    counters = dedup_run.run(src, dest, p, {}, lambda phase, k: None, presigned=presign.Presigned(folder))
    return ((dest / "paragraphs.parquet").read_bytes(), (dest / "dup_clusters.parquet").read_bytes(),
            json.loads(json.dumps(counters)))


@pytest.mark.parametrize("shard_rows", [7, 64, 1 << 20])
@pytest.mark.parametrize("backend", ["bands", "datasketch"])
def test_signed_ahead_gives_the_same_bytes(shard_rows: int, backend: str, tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    src = tmp_path / "strip.parquet"
    pq.write_table(_planted()[0], src, row_group_size=50)  # row groups that do not align with shards
    p = DedupParams(shard_rows=shard_rows, backend=backend)
    plain = _run_files(src, tmp_path / "plain", p)
    folder = _signed_ahead(src, tmp_path / "parts", p)
    with caplog.at_level(logging.INFO):
        assert _run_ahead(src, tmp_path / "ahead", p, folder) == plain
    assert USED in caplog.text


def test_parts_of_other_paragraphs_are_not_used(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    table, _ = _planted()
    src, other = tmp_path / "strip.parquet", tmp_path / "other.parquet"
    pq.write_table(table, src)
    pq.write_table(table.take(np.r_[1:table.num_rows, 0]), other)  # the same paragraphs, rotated
    p = DedupParams(shard_rows=64)
    plain = _run_files(src, tmp_path / "plain", p)
    for name, source in (("reordered", other), ("short", None)):
        folder = _signed_ahead(source or src, tmp_path / name, p)
        if source is None:  # a part missing
            (folder / "part-000001.npz").unlink()
        caplog.clear()
        with caplog.at_level(logging.INFO):
            assert _run_ahead(src, tmp_path / f"out-{name}", p, folder) == plain
        assert USED not in caplog.text and "signing them again" in caplog.text, name


def test_pipeline_run_signs_ahead_with_workers_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    params = Params()
    runner.run_all(RAW, tmp_path / "one", params, workers=1)
    with caplog.at_level(logging.INFO):
        runner.run_all(RAW, tmp_path / "small", params, workers=2)
    assert USED not in caplog.text  # the sample corpus is too small to be worth a process
    monkeypatch.setattr(presign, "MIN_PARAGRAPHS", 1)
    with caplog.at_level(logging.INFO):
        runner.run_all(RAW, tmp_path / "two", params, workers=2)
    assert USED in caplog.text
    for one in sorted((tmp_path / "one").rglob("*.parquet")):
        for other in ("small", "two"):
            twin = tmp_path / other / one.relative_to(tmp_path / "one")
            assert one.read_bytes() == twin.read_bytes(), (one, other)
    assert not list((tmp_path / "two").rglob(".presign-*"))


def test_a_failed_signing_ahead_leaves_dedup_to_sign(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    ahead = presign.Ahead(True, tmp_path / "missing.parquet", tmp_path / "dedup", DedupParams())
    with ahead:
        ahead.start(presign.MIN_PARAGRAPHS)
        assert len(list((tmp_path / "dedup").glob(".presign-*"))) == 1
        assert ahead.folder() is None
    assert "signing ahead failed" in caplog.text
    assert not list((tmp_path / "dedup").glob(".presign-*"))
    off = presign.Ahead(False, tmp_path / "missing.parquet", tmp_path / "off", DedupParams())
    off.start(presign.MIN_PARAGRAPHS)
    few = presign.Ahead(True, tmp_path / "missing.parquet", tmp_path / "few", DedupParams())
    few.start(presign.MIN_PARAGRAPHS - 1)
    assert few.folder() is None and not (tmp_path / "few").exists()
    assert off.folder() is None and not (tmp_path / "off").exists()


def test_dedup_removes_parts_a_killed_run_left_but_not_its_own(tmp_path: Path) -> None:
    src, dest = tmp_path / "strip.parquet", tmp_path / "dedup"
    pq.write_table(_planted()[0], src)
    p = DedupParams()
    stale = dest / ".presign-killed"
    stale.mkdir(parents=True)
    (stale / "part-000000.npz").write_bytes(b"torn")
    own = _signed_ahead(src, dest / ".presign-own", p)
    assert _run_ahead(src, dest, p, own) == _run_files(src, tmp_path / "plain", p)
    assert not stale.exists() and own.is_dir()


def test_background_returns_raises_and_is_killed_on_close() -> None:
    import time

    from pipeline import pool

    job = pool.Background(abs, -3)
    assert job.result() == 3
    job.close()
    failing = pool.Background(int, "not a number")
    with pytest.raises(RuntimeError, match="ValueError: invalid literal"):
        failing.result()
    failing.close()
    slow, start = pool.Background(time.sleep, 60), time.monotonic()
    slow.close()  # a run that stops early does not wait for work nobody will read
    assert time.monotonic() - start < 10
