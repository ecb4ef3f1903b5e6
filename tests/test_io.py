"""Atomic writes: a failure part-way leaves neither a partial file nor a temporary one. Parts of
row groups read where they are needed."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from pipeline import parquet_io as pio

SCHEMA = pa.schema([("x", pa.int64())])


def test_stream_writers_leave_nothing_on_failure(tmp_path: Path) -> None:
    (tmp_path / "a.parquet").write_bytes(b"previous good output")
    with pytest.raises(RuntimeError), pio.StreamWriters(tmp_path, {"a": SCHEMA, "b": SCHEMA}) as w:
        w.write("a", pa.table({"x": [1, 2]}))
        raise RuntimeError("killed mid-stage")
    assert (tmp_path / "a.parquet").read_bytes() == b"previous good output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.parquet"]


def test_stream_writers_write_every_batch(tmp_path: Path) -> None:
    with pio.StreamWriters(tmp_path, {"a": SCHEMA, "b": SCHEMA}) as w:
        w.write("a", pa.table({"x": [1, 2]}))
        w.write("a", pa.table({"x": [3]}))
    assert pio.read_table(tmp_path / "a.parquet").column("x").to_pylist() == [1, 2, 3]
    assert pio.read_table(tmp_path / "b.parquet").num_rows == 0
    assert [t.num_rows for t in pio.iter_row_groups(tmp_path / "a.parquet")] == [2, 1]


def test_background_writes_give_the_same_bytes(tmp_path: Path) -> None:
    batches = [pa.table({"x": list(range(k, k + 1000))}) for k in range(0, 20_000, 1000)]
    for background in (False, True):
        with pio.StreamWriters(tmp_path / str(background), {"a": SCHEMA, "b": SCHEMA},
                               background=background) as w:
            for batch in batches:
                w.write("a", batch)
                w.write("b", batch.slice(0, 10))
    for name in ("a.parquet", "b.parquet"):
        assert (tmp_path / "True" / name).read_bytes() == (tmp_path / "False" / name).read_bytes()
    assert pio.num_rows(tmp_path / "True" / "a.parquet") == 20_000


def test_a_failed_background_write_fails_the_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.parquet as pq

    real, calls = pq.ParquetWriter.write_table, []

    def flaky(self: pq.ParquetWriter, table: pa.Table, *args: object, **kwargs: object) -> None:
        calls.append(table.num_rows)
        if len(calls) == 2:
            raise OSError("disk full")
        real(self, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", flaky)
    with pytest.raises(OSError, match="disk full"), pio.StreamWriters(tmp_path, {"a": SCHEMA}) as w:
        for k in range(5):  # the error surfaces at a later write or at the end, never lost
            w.write("a", pa.table({"x": [k]}))
    assert list(tmp_path.iterdir()) == []


def test_write_table_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "t.parquet"
    pio.write_table(pa.table({"x": [1]}), target)
    pio.write_table(pa.table({"x": [2]}), target)
    assert pio.read_table(target).column("x").to_pylist() == [2]
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


def test_row_group_parts_read_the_rows_they_name(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    table = pa.table({"x": list(range(10))})
    pio.write_table(table, path, row_group_size=4)  # row groups of 4, 4 and 2 rows
    parts = list(pio.row_group_parts(path))
    assert [(p.row_group, p.start, p.num_rows) for p in parts] == [(0, 0, 4), (1, 0, 4), (2, 0, 2)]
    reader = pio.PartReader()
    pieces = [part.cut(s, 3) for part in parts for s in range(0, part.num_rows, 3)]
    assert [(p.row_group, p.start, p.num_rows) for p in pieces] == \
        [(0, 0, 3), (0, 3, 1), (1, 0, 3), (1, 3, 1), (2, 0, 2)]
    assert [x for p in pieces for x in reader.read(p).column("x").to_pylist()] == list(range(10))
    assert reader.read(parts[1].cut(1, 3).cut(1, 5)).column("x").to_pylist() == [6, 7]  # clipped


def test_row_groups_joined_up_to_a_row_count(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pio.write_table(pa.table({"x": list(range(10))}), path, row_group_size=3)  # 3, 3, 3, 1 rows
    assert [t.num_rows for t in pio.iter_row_groups(path)] == [3, 3, 3, 1]
    joined = list(pio.iter_row_groups(path, min_rows=5))
    assert [t.num_rows for t in joined] == [6, 4]  # 3+3 reaches 5; the rest at the end
    assert [t.column("x").num_chunks for t in joined] == [1, 1]
    assert [x for t in joined for x in t.column("x").to_pylist()] == list(range(10))
