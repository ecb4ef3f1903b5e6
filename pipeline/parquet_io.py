"""File I/O for the entry points: atomic, deterministic Parquet and JSON writes."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

# Fixed writer settings: the same table always gives the same bytes (DVC hashes them).
_WRITE_OPTS: dict[str, Any] = {"use_dictionary": True, "write_statistics": True,
                               "data_page_version": "2.0", "row_group_size": 1 << 20}


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it into place only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _compression(name: str) -> str | None:
    return None if name == "none" else name


def write_table(table: pa.Table, path: Path, compression: str = "zstd") -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression=_compression(compression), **_WRITE_OPTS)


def write_batches(batches: Iterable[pa.Table], schema: pa.Schema, path: Path,
                  compression: str = "zstd") -> int:
    """Stream tables into one Parquet file, one row group per batch; returns the row count."""
    rows = 0
    opts = {k: v for k, v in _WRITE_OPTS.items() if k != "row_group_size"}
    with atomic_path(path) as tmp, \
            pq.ParquetWriter(tmp, schema, compression=_compression(compression), **opts) as writer:
        for table in batches:
            if table.num_rows:
                writer.write_table(table.cast(schema))
                rows += table.num_rows
    return rows


def iter_row_groups(path: Path, columns: list[str] | None = None) -> Iterator[pa.Table]:
    """Yield a file's row groups: writers here put whole documents in each one."""
    pf = pq.ParquetFile(path)
    for i in range(pf.num_row_groups):
        yield pf.read_row_group(i, columns=columns)


def read_table(path: Path, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(path, columns=columns)


def write_json(data: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                       encoding="utf-8")
