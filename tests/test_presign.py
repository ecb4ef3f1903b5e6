"""Dedup's signing done ahead (while strip runs) gives the same bytes as signing in dedup; parts
that are not those of strip's paragraphs, or a signing that failed, fall back to signing in
dedup; the folder of parts is gone after the run. Containment counted ahead gives the same bytes
as counting in dedup, whether it has every pair, some, or is not ready."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import RAW
from test_dedup_shards import WORDS, _planted, _run_files

from pipeline import dedup_run, presign, runner, schema
from pipeline.dedup import known
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


def _contained(seed: int = 11) -> pa.Table:
    """12 documents: a long paragraph, a span of the next document's long one, a paragraph of its
    own. The first long paragraph was removed by strip: counting ahead does not know that."""
    rng = np.random.default_rng(seed)
    long = [" ".join(rng.choice(WORDS, 40)) for _ in range(12)]
    rows = []
    for d in range(12):
        paras = [long[d], " ".join(long[(d + 1) % 12].split()[5:30]), " ".join(rng.choice(WORDS, 20))]
        rows += [{"doc_id": f"d{d:02d}", "para_idx": i, "text": t, "char_start": 0, "char_end": len(t),
                  "status": "kept"} for i, t in enumerate(paras)]
    rows[0]["status"], rows[0]["stage"] = "removed", "strip"
    return pa.Table.from_pylist(rows, schema=schema.PARAGRAPHS)


def _counted_ahead(src: Path, folder: Path, p: DedupParams) -> int:
    folder.mkdir()
    n_parts, n_pairs = presign.AheadTask(p)((str(src), str(folder)))
    assert n_parts == -(-pq.ParquetFile(src).metadata.num_rows // p.shard_rows)
    return n_pairs


def _rewrite_counts(folder: Path, change) -> None:
    with np.load(folder / "contained.npz") as z:
        arrays = {name: z[name] for name in z.files}
    np.savez(folder / "contained.npz", **change(arrays))


@pytest.mark.parametrize(("keep", "backend"), [("all", "bands"), ("some", "bands"), ("not ready", "bands"),
                                               ("zeroed", "bands"), ("all", "datasketch")])
def test_containment_counted_ahead_gives_the_same_bytes(keep: str, backend: str, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    src = tmp_path / "strip.parquet"
    pq.write_table(_contained(), src)
    p = DedupParams(shard_rows=16, backend=backend)  # datasketch: parts hold signatures too
    plain = _run_files(src, tmp_path / "plain", p)
    assert plain[2]["contained_reported"] >= 10
    folder = tmp_path / "ahead"
    n_pairs = _counted_ahead(src, folder, p)
    if keep == "some":  # pairs it lacks (strip's file may have pairs it did not see): dedup counts them
        _rewrite_counts(folder, lambda a: {name: v[::2] for name, v in a.items()})
    if keep == "zeroed":  # what dedup decides with comes from the file, not from a recount
        _rewrite_counts(folder, lambda a: {**a, "inter": np.zeros_like(a["inter"])})
    with caplog.at_level(logging.INFO):
        counters = dedup_run.run(src, tmp_path / "out", p, {}, lambda phase, k: None,
                                 presigned=presign.Presigned(folder, counted=lambda: keep != "not ready"))
    if keep == "zeroed":
        assert counters["contained_reported"] == 0
        return
    got = [(tmp_path / "out" / name).read_bytes() for name in ("paragraphs.parquet", "dup_clusters.parquet")]
    assert got == list(plain[:2])
    if keep == "not ready":
        assert "containment counted here" in caplog.text
        return
    found, asked = (int(n.replace(",", "")) for n in re.search(r"containment of ([\d,]+) of ([\d,]+) pairs",
                                                                caplog.text).groups())
    # The removed paragraph's pair is counted ahead but not asked for.
    assert asked < n_pairs and (found == asked if keep == "all" else 0 < found < asked)


def test_counts_are_found_by_position_pair() -> None:
    counts = known.Counts(np.array([1 << 32 | 5, 2 << 32 | 3], np.uint64), np.array([4, 6]), np.array([9, 8]))
    found, inter, size = counts.lookup(np.array([2, 1, 5, 1]), np.array([3, 5, 1, 6]))
    assert found.tolist() == [True, True, False, False]
    assert inter.tolist() == [6, 4] and size.tolist() == [8, 9]
    empty = known.Counts(np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert empty.lookup(np.array([1]), np.array([2]))[0].tolist() == [False]


def _steps(fail: bool):
    yield "signed"
    if fail:
        raise ValueError("no counts")
    yield "counted"


def test_background_sends_each_value_a_generator_yields() -> None:
    import time

    from pipeline import pool

    job = pool.Background(_steps, False)
    deadline = time.monotonic() + 60
    while not job.ready() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.ready()  # and stays so until read
    assert job.result() == "signed" and job.result() == "counted"
    with pytest.raises(RuntimeError, match="ended"):
        job.result()
    job.close()
    failing = pool.Background(_steps, True)
    assert failing.result() == "signed"
    with pytest.raises(RuntimeError, match="ValueError: no counts"):
        failing.result()
    failing.close()


def test_a_failed_counting_ahead_leaves_dedup_to_count(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    import time

    from pipeline import pool

    ahead = presign.Ahead(True, tmp_path / "unused.parquet", tmp_path / "dedup", DedupParams())
    with ahead:
        folder = tmp_path / "parts"
        folder.mkdir()
        ahead._job, ahead._folder = pool.Background(_steps, True), folder  # signs, then fails to count
        presigned = ahead.presigned()
        assert presigned is not None and presigned.folder == folder
        deadline = time.monotonic() + 60
        while not ahead._job.ready() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert presigned.counts() is None and presigned.counts() is None  # asked twice: one warning
    assert caplog.text.count("counting ahead failed (RuntimeError: ValueError: no counts)") == 1
