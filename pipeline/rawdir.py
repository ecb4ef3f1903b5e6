"""The raw folder: reading single files, streaming containers, batching (listing: `pipeline.listing`)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline import schema, sources
from pipeline.params import IngestParams


def read_raw(path: str | Path, max_bytes: int) -> tuple[bytes | None, tuple[str, str] | None]:
    """The bytes of one file, or why not; size and type are checked before anything is read."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return None, ("not_a_regular_file", "not a regular file (FIFO, socket or device); not read")
        if st.st_size > max_bytes:
            return None, ("too_large", f"{st.st_size} bytes > ingest.max_file_bytes; not read")
        with open(path, "rb") as f:
            return f.read(), None
    except OSError as exc:
        return None, ("unreadable", f"cannot read file ({exc.strerror or exc})")


def raw_rows(raw_dir: Path, files: list[str], refused: dict[str, tuple[str, str]], params: IngestParams,
             file_done: Callable[[int], Any] = lambda n: None) -> Iterator[dict[str, Any]]:
    """One raw row per single file, one per record of a container, in listing order."""
    folder = os.fspath(raw_dir)
    for rel in files:
        err = refused.get(rel)
        kind = None if err else sources.container_of(rel)
        if kind is not None:
            for row in sources.rows_of(raw_dir / rel, kind, params):
                yield {"source_path": rel, **row}
        else:
            data = None
            if err is None:
                data, err = read_raw(os.path.join(folder, rel), params.max_file_bytes)
            code, message = err or (None, None)
            yield {"source_path": rel, "data": data, "read_error": message, "read_error_code": code}
        file_done(1)


def batches(rows: Iterator[dict[str, Any]], size: int, max_bytes: int,
            tables: bool = True) -> Iterator[pa.Table | list[dict[str, Any]]]:
    """Raw rows in tables of `size` rows, or fewer once they hold `max_bytes` bytes of content (a
    record's decoded text counts its characters): the same cut whatever consumes them. Not
    `tables`: the batches as lists of the rows, for ingest in this process."""
    batch: list[dict[str, Any]] = []
    held = 0
    for row in rows:
        batch.append(row)
        held += len(row.get("data") or row.get("text") or b"")
        if len(batch) == size or held >= max_bytes:
            yield pa.Table.from_pylist(batch, schema=schema.RAW) if tables else batch
            batch, held = [], 0
    if batch:
        yield pa.Table.from_pylist(batch, schema=schema.RAW) if tables else batch
