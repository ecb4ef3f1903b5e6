"""Atomic writes: a failure part-way leaves neither a partial file nor a temporary one."""

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


def test_write_table_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "t.parquet"
    pio.write_table(pa.table({"x": [1]}), target)
    pio.write_table(pa.table({"x": [2]}), target)
    assert pio.read_table(target).column("x").to_pylist() == [2]
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]
