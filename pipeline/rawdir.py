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
    Refusals map the path to (reason code, message). Walked with `os.scandir` and plain strings:
    its entries know their type without a system call, and a `Path` per file cost more than the
    listing (4,000 files: 0.14 s).
    """
    root = raw_dir.resolve()
    files: list[str] = []
    refused: dict[str, tuple[str, str]] = {}
    folders = [("", os.fspath(raw_dir))]
    while folders:
        prefix, folder = folders.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:  # an unreadable folder is skipped, as os.walk does
            continue
        for entry in entries:
            rel = prefix + entry.name
            if _is_dir(entry):
                if entry.is_symlink():
                    refused[rel] = ("symlink_directory", "symlink to a folder; not followed")
                    files.append(rel)
                else:
                    folders.append((rel + "/", entry.path))
                continue
            if entry.is_symlink() and not Path(entry.path).resolve().is_relative_to(root):
                refused[rel] = ("symlink_outside_raw", "symlink points outside the raw folder; not followed")
            files.append(rel)
    return sorted(files), refused


def _is_dir(entry: os.DirEntry) -> bool:
    """A folder, or a symlink to one (os.walk's test: such a symlink is listed among folders)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


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
