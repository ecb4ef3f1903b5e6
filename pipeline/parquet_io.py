"""File I/O for the entry points: atomic, deterministic Parquet and JSON writes."""

from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

# Fixed writer settings: the same table always gives the same bytes (DVC hashes them).
_WRITE_OPTS: dict[str, Any] = {"write_statistics": True, "data_page_version": "2.0",
                               "row_group_size": 1 << 20}
# Columns of whole pages or paragraphs: nearly every value is distinct, so a dictionary only costs
# (it is built, then abandoned for plain pages once it outgrows its limit). Without one, ingest's
# documents of the 804 development pages read in 0.10 s instead of 0.24 s, at the same size.
_FREE_TEXT = frozenset({"content", "extracted_text", "text"})


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    return [name for name in schema.names if name not in _FREE_TEXT]


def _fresh_temp(path: Path) -> str:
    """A new empty temporary file beside `path`: a dot-file ending in .tmp."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A run killed mid-write (SIGKILL: no `finally`) leaves its temporary file; the next write of
    # the same file clears it, so stage folders (DVC outputs) never accumulate them.
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return tmp


def remove_unfinished(out: Path) -> int:
    """Delete what unfinished writes left under `out`: temporary files (dot-files ending in .tmp)
    and dedup's work folders (.work-*, .presign-*); the number removed. For a run that was
    stopped: its own `finally` blocks remove them, except when the signal lands in the few
    instructions between a file's creation and the block that would delete it (2 runs in 10
    of a test that stops a run the moment extract creates its file)."""
    removed = 0
    if not out.is_dir():
        return removed
    for tmp in out.rglob(".*.tmp"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed += 1
    for folder in [*out.glob("stages/*/.work-*"), *out.glob("stages/*/.presign-*")]:
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it into place only if the block succeeds."""
    tmp = _fresh_temp(path)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def scratch_path(path: Path) -> Iterator[Path]:
    """A temporary file named after `path` for data a stage reads back within the run; always
    deleted afterwards (never renamed into place)."""
    tmp = _fresh_temp(path)
    try:
        yield Path(tmp)
    finally:
        Path(tmp).unlink(missing_ok=True)


class ColumnReader:
    """One column of a Parquet file handed out a number of rows at a time, in order, whatever the
    file's own row groups."""

    def __init__(self, path: Path, column: str) -> None:
        file = pq.ParquetFile(path)
        self._stored = file.iter_batches(columns=[column])
        self._carry = pa.chunked_array([], file.schema_arrow.field(column).type)

    def take(self, n_rows: int) -> pa.ChunkedArray:
        while len(self._carry) < n_rows:
            more = next(self._stored).column(0)
            self._carry = pa.chunked_array([*self._carry.chunks, more], self._carry.type)
        rows, self._carry = self._carry.slice(0, n_rows), self._carry.slice(n_rows)
        return rows


def with_column(batches: Iterator[pa.Table], path: Path, column: str) -> Iterator[pa.Table]:
    """Each batch with `column` appended from the file at `path`, row for row: the file holds one
    row per row of all the batches together, in order, whatever its own row groups."""
    reader = ColumnReader(path, column)
    for batch in batches:
        yield batch.append_column(column, reader.take(batch.num_rows))


def _compression(name: str) -> str | None:
    return None if name == "none" else name


def write_table(table: pa.Table, path: Path, compression: str = "zstd",
                row_group_size: int | None = None) -> None:
    """One table in one go; a smaller `row_group_size` lets a reader stream it in bounded memory."""
    opts = {**_WRITE_OPTS, **({"row_group_size": row_group_size} if row_group_size else {})}
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression=_compression(compression),
                       use_dictionary=_dictionary_columns(table.schema), **opts)


class StreamWriters:
    """Several Parquet files written batch by batch, all renamed into place only on success.

    Memory stays at a couple of batches whatever the corpus size; an exception leaves no file
    behind. Encoding and compressing a batch, most of what a write costs, runs on a background
    thread per file while the caller computes the next batch (pyarrow releases the GIL as it
    writes). Each file's thread takes its writes in the order they were made, so the bytes are the
    same as writing in the caller's thread; the caller waits when a file already has a write
    queued behind the one in progress, and a failed write raises in the caller at its next write
    or at the end.
    """

    def __init__(self, directory: Path, schemas: dict[str, pa.Schema], compression: str = "zstd",
                 background: bool = True):
        self._dir, self._schemas, self._compression = directory, schemas, compression
        self._stack = ExitStack()
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._background = background
        self._threads: dict[str, ThreadPoolExecutor] = {}
        self._pending: dict[str, deque[Future[None]]] = {name: deque() for name in schemas}

    def __enter__(self) -> StreamWriters:
        opts = {k: v for k, v in _WRITE_OPTS.items() if k != "row_group_size"}
        with ExitStack() as stack:
            for name, sch in self._schemas.items():
                tmp = stack.enter_context(atomic_path(self._dir / f"{name}.parquet"))
                self._writers[name] = stack.enter_context(
                    pq.ParquetWriter(tmp, sch, compression=_compression(self._compression),
                                     use_dictionary=_dictionary_columns(sch), **opts))
                if self._background:  # a thread starts at the file's first write
                    self._threads[name] = stack.enter_context(ThreadPoolExecutor(1, f"parquet-{name}"))
            self._stack = stack.pop_all()
        return self

    def write(self, name: str, table: pa.Table) -> None:
        if not table.num_rows:
            return
        table = table.cast(self._schemas[name])
        if not self._background:
            self._writers[name].write_table(table)
            return
        queued = self._pending[name]
        queued.append(self._threads[name].submit(self._writers[name].write_table, table))
        while len(queued) > 1:  # one write in progress per file while the next batch is computed
            queued.popleft().result()

    def __exit__(self, *exc: Any) -> None:
        try:
            self._drain(failing=exc[0] is not None)
        except BaseException as err:  # a failed write fails the block: no file is renamed into place
            self._stack.__exit__(type(err), err, err.__traceback__)
            raise
        # Each file's thread is shut down, then its writer closed, then its temporary renamed
        # (ExitStack unwinds in reverse order).
        self._stack.__exit__(*exc)

    def _drain(self, failing: bool) -> None:
        """Wait for the queued writes; when the block already failed, only for those running."""
        for queued in self._pending.values():
            while queued:
                future = queued.popleft()
                if failing:
                    future.cancel()
                    wait([future])
                else:
                    future.result()


def iter_row_groups(path: Path, columns: list[str] | None = None, min_rows: int = 1) -> Iterator[pa.Table]:
    """Yield a file's row groups, consecutive ones joined until they hold `min_rows` rows. Stage
    writers put whole documents in each one, except dedup's paragraphs (row groups of 64k rows,
    read by export with the documents in lockstep)."""
    pf = pq.ParquetFile(path)
    group: list[int] = []
    held = 0
    for i in range(pf.num_row_groups):
        group.append(i)
        held += pf.metadata.row_group(i).num_rows
        if held >= min_rows or i == pf.num_row_groups - 1:
            table = pf.read_row_groups(group, columns=columns)
            yield table if len(group) == 1 else table.combine_chunks()
            group, held = [], 0


@dataclass(frozen=True)
class RowGroupPart:
    """Rows `start` to `start + length` of row group `row_group` of the Parquet file at `path`: a
    unit of work a pool worker reads itself. Sent instead of the rows, it keeps the parent from
    reading, copying and pickling every page into a pipe (144 MB for the 804 development pages,
    about 1.6 s of the parent's CPU while both workers wanted the 2 cores)."""

    path: str
    row_group: int
    start: int
    length: int

    @property
    def num_rows(self) -> int:
        return self.length

    def cut(self, start: int, length: int) -> RowGroupPart:
        """The part `start` to `start + length` of this part (as `pool.cut` for a table)."""
        return RowGroupPart(self.path, self.row_group, self.start + start,
                            max(0, min(length, self.length - start)))


def row_group_parts(path: Path) -> Iterator[RowGroupPart]:
    """Each row group of a file as a whole part, from its footer alone."""
    meta = pq.ParquetFile(path).metadata
    for i in range(meta.num_row_groups):
        yield RowGroupPart(os.fspath(path), i, 0, meta.row_group(i).num_rows)


class PartReader:
    """Reads `RowGroupPart`s, keeping the last row group read: a worker gets several parts of one
    row group in a row, and decompresses it once."""

    def __init__(self) -> None:
        self._key: tuple[str, int] | None = None
        self._table: pa.Table | None = None

    def read(self, part: RowGroupPart) -> pa.Table:
        if self._key != (part.path, part.row_group) or self._table is None:
            self._table = None  # let the previous row group go before the next is read
            with pq.ParquetFile(part.path) as file:
                self._table = file.read_row_group(part.row_group)
            self._key = (part.path, part.row_group)
        return self._table.slice(part.start, part.length)


def num_rows(path: Path) -> int:
    """A file's row count from its footer, without reading a column."""
    return pq.ParquetFile(path).metadata.num_rows


def read_table(path: Path, columns: list[str] | None = None) -> pa.Table:
    # Not `pq.read_table`: for one file it goes through pyarrow.dataset, whose import alone is
    # about 20 ms of every run (and 0.4 s with pandas, in a process that has not imported it yet).
    with pq.ParquetFile(path) as file:
        return file.read(columns=columns)


def write_json(data: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                       encoding="utf-8")
