"""The raw folder: listing (symlink rules), reading single files, streaming containers, batching."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline import schema, sources
from pipeline.params import IngestParams


def list_raw(raw_dir: Path) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """Files under raw_dir as sorted relative POSIX paths, plus paths refused before reading.

    Symlinks are never followed into folders (a folder symlink is reported, not walked), and a
    file symlink that resolves outside raw_dir is refused: reported as a reject, never read.
    Refusals map the path to (reason code, message).
    """
    root = raw_dir.resolve()
    files: list[str] = []
    refused: dict[str, tuple[str, str]] = {}
    for dirpath, dirnames, filenames in os.walk(raw_dir, followlinks=False):
        dirnames.sort()
        for name in [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            rel = (Path(dirpath) / name).relative_to(raw_dir).as_posix()
            refused[rel] = ("symlink_directory", "symlink to a folder; not followed")
            files.append(rel)
        for name in filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(raw_dir).as_posix()
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                refused[rel] = ("symlink_outside_raw", "symlink points outside the raw folder; not followed")
            files.append(rel)
    return sorted(files), refused


def read_raw(path: Path, max_bytes: int) -> tuple[bytes | None, tuple[str, str] | None]:
    """The bytes of one file, or why not; size and type are checked before anything is read."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            return None, ("not_a_regular_file", "not a regular file (FIFO, socket or device); not read")
        if st.st_size > max_bytes:
            return None, ("too_large", f"{st.st_size} bytes > ingest.max_file_bytes; not read")
        return path.read_bytes(), None
    except OSError as exc:
        return None, ("unreadable", f"cannot read file ({exc.strerror or exc})")


def raw_rows(raw_dir: Path, files: list[str], refused: dict[str, tuple[str, str]], params: IngestParams,
             file_done: Callable[[int], Any] = lambda n: None) -> Iterator[dict[str, Any]]:
    """One raw row per single file, one per record of a container, in listing order."""
    for rel in files:
        err = refused.get(rel)
        kind = None if err else sources.container_of(rel)
        if kind is not None:
            for row in sources.rows_of(raw_dir / rel, kind, params):
                yield {"source_path": rel, **row}
        else:
            data = None
            if err is None:
                data, err = read_raw(raw_dir / rel, params.max_file_bytes)
            code, message = err or (None, None)
            yield {"source_path": rel, "data": data, "read_error": message, "read_error_code": code}
        file_done(1)


def batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[pa.Table]:
    """Raw rows in tables of `size` rows: the same cut whatever consumes them."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield pa.Table.from_pylist(batch, schema=schema.RAW)
            batch = []
    if batch:
        yield pa.Table.from_pylist(batch, schema=schema.RAW)
