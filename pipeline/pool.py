"""Per-document stages over batches in a process pool, results in input order.

Batches are cut the same way whatever the number of workers, and their results are written in
the order the batches were read, so `--workers 4` writes the same bytes as `--workers 1`. At most
two batches per worker (eight slices for `split_map`) are in flight, so memory stays at a few
batches whatever the corpus size.

Workers are not forked from this process: it holds Arrow's thread pools and open Parquet writers,
which a fork would copy mid-flight. They are forked from a fork server instead, a fresh
interpreter started once per run that has imported the stage code and trafilatura and nothing
else; spawning each worker as a new interpreter made every worker of every stage import them
again (about a second of CPU each, the main start-up cost of a pool). A task object (the stage's
params, rules, shared lookups) is sent once to each worker when it starts, not with every batch.
A worker that loses its parent (the run is killed) is killed by the kernel, so no orphan keeps
running: the fork server exits when the run does, and its workers die with it.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing as mp
import multiprocessing.forkserver
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from pipeline import lifetime, logsetup, stopping

# (task, items, workers) -> results in the order of items: `ordered_map`, or an engine's
# equivalent (`ray_engine.RayMapper`).
Mapper = Callable[[Callable[[Any], Any], Iterable[Any], int], Iterator[Any]]
_CTX = mp.get_context("forkserver")
# Imported once by the fork server, so that workers start with them: the stage code (pyarrow,
# lxml, rules) and trafilatura (extract imports it lazily; most of a worker's start); first, what
# makes the server's own exit quick, then pandas kept out (pyarrow would import it on the first
# `pa.array`: `pipeline.nopandas`), and last, extraction's lazy caches filled (`pipeline.warmup`).
_PRELOAD = ("pipeline.serverexit", "pipeline.nopandas", "pipeline.tasks", "trafilatura", "pipeline.warmup")
# Near the end of a map with a known total, a slice is at most 1/_TAIL of a worker's share of
# the rows still to send (`tail_starts`).
_TAIL = 4
# The task a pool worker runs, installed once by its initializer. Per-process worker state, set
# only inside pool workers; the parent never reads it.
_TASK: Callable[[Any], Any] | None = None


def default_workers() -> int:
    return os.cpu_count() or 1


def _install(task: Callable[[Any], Any], log_level: int, run_pid: int) -> None:
    global _TASK
    lifetime.die_with_parent(os.getppid())  # the fork server
    lifetime.end_with(run_pid)
    stopping.leave_sigint_to_parent()  # forked with it blocked (`serverexit`)
    # A worker (a fork of the fork server) starts with no logging set up: log as the parent does (-q, -v).
    logsetup.configure(log_level)
    _TASK = task


def _call(item: Any) -> Any:
    assert _TASK is not None, "pool worker without a task"
    return _TASK(item)


def _server() -> Any:
    """The fork-server context, with `_PRELOAD` set: the server reads it when it starts (the
    first pool, background process or `start_server` of a run)."""
    _CTX.set_forkserver_preload(list(_PRELOAD))
    return _CTX


def start_server() -> None:
    """Start the fork server now, without waiting for it: it imports `_PRELOAD` (about a second
    of CPU) on the other core while this process lists and reads the first batches, instead of
    after them, when the first pool asks for a worker. Call it only when a pool will follow."""
    _server()
    multiprocessing.forkserver.ensure_running()


class Background:
    """`task(item)` in a process of its own, forked from the fork server as pool workers are,
    while this one goes on; `result()` waits for it, `close()` kills it if it is still running
    (a run that failed or was interrupted does not wait for work nobody will read). A task that
    is a generator sends each value it yields as it yields it: `result()` returns the next one,
    and `ready()` says whether one is there."""

    def __init__(self, task: Callable[[Any], Any], item: Any) -> None:
        ctx = _server()
        self._conn, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_background, daemon=True, args=(
            task, item, send, logging.getLogger().getEffectiveLevel(), os.getpid()))
        self._proc.start()
        send.close()

    def ready(self) -> bool:
        """Would `result()` return (or raise) at once?"""
        return self._conn.poll(0)

    def result(self) -> Any:
        try:
            reply = self._conn.recv()
        except EOFError:
            self._proc.join()
            raise RuntimeError(f"the process ended (exit code {self._proc.exitcode})") from None
        return value_of(reply, RuntimeError)

    def close(self) -> None:
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()
        self._conn.close()


def _background(task: Callable[[Any], Any], item: Any, conn: Any, log_level: int, run_pid: int) -> None:
    _install(task, log_level, run_pid)
    status, value = reply_of(_call, item)
    if status != "ok" or not isinstance(value, Generator):
        conn.send((status, value))
        return
    while True:  # one reply per value, and an error ends it
        try:
            conn.send(("ok", next(value)))
        except StopIteration:
            return
        except Exception as exc:
            conn.send(_error_reply(exc))
            return


def reply_of(fn: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """What a process running `fn(*args)` for another sends back: ("ok", the value), or ("error",
    "<type>: <message>") if it raised (the process that asked decides what a failure means; the
    exception itself may not pickle)."""
    try:
        return "ok", fn(*args)
    except Exception as exc:
        return _error_reply(exc)


def _error_reply(exc: Exception) -> tuple[str, str]:
    return "error", f"{type(exc).__name__}: {exc}"


def value_of(reply: tuple[str, Any], error: type[Exception]) -> Any:
    """The value of a `reply_of` reply, or `error` with its message."""
    status, value = reply
    if status == "error":
        raise error(value)
    return value


def ordered_map(task: Callable[[Any], Any], items: Iterable[Any], workers: int,
                window: int = 2) -> Iterator[Any]:
    """`map(task, items)` over `workers` processes, yielding results in the order of `items`, with
    at most `window` items per worker submitted and not yet yielded.

    With one worker, or a single item, the task runs in this process (no pool to start).
    """
    items = iter(items)
    head = list(itertools.islice(items, 2))
    if workers <= 1 or len(head) < 2:
        yield from map(task, itertools.chain(head, items))
        return
    items = itertools.chain(head, items)
    pool = ProcessPoolExecutor(workers, mp_context=_server(), initializer=_install,
                               initargs=(task, logging.getLogger().getEffectiveLevel(), os.getpid()))
    pending: deque[Future] = deque()
    finished = False
    try:
        for item in items:
            pending.append(pool.submit(_call, item))
            while len(pending) >= window * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
        finished = True
    finally:
        if not finished:
            _kill_workers(pool)
        pool.shutdown(wait=True, cancel_futures=True)


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's workers: a map that failed or was stopped (Ctrl-C, SIGTERM) does not wait
    for work nobody will read. shutdown() alone waits for the items already running: a stopped
    2-worker extract took 1.7 s to end, a slice of pages at a time. `_processes` is the
    executor's own table of its workers (no public way to stop them before Python 3.14); without
    it, shutdown waits as before."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # already gone
            proc.kill()


def split_map(task: Callable[[Any], Any], batches: Iterable[Any], size: int | Callable[[Any], int],
              workers: int, merge: Callable[[list[Any]], Any], key: str | None = None,
              total: int | None = None) -> Iterator[Any]:
    """`ordered_map` over slices of at most `size` rows of each batch (Arrow tables; `size` may be
    a function of the batch), each batch's results merged back into one, in order. With `key` (a
    column whose equal values are contiguous, such as a paragraph's doc_id), a slice is `size`
    runs of the key instead, so a document is never cut in two.

    Slices balance the workers when a batch is much more work than `size` rows (a few hundred
    pages take minutes to extract: four batches cannot keep two workers busy to the end), while
    the batches, and so the files written from them, stay exactly as they were cut.

    `total` (rows over all batches, without `key`): slices shrink as the end nears (see
    `tail_starts`), so the workers finish together.
    """
    if workers <= 1:
        # Slices only share work out: in this process a batch is one call (each call of a
        # stage has its fixed costs: lookups, Arrow kernels), and the merged result is the same.
        for batch in batches:
            yield merge([task(batch)])
        return
    last: deque[bool] = deque()  # per slice sent, in order: does it end its batch?

    left = total

    def slices() -> Iterator[Any]:
        nonlocal left
        for batch in batches:
            width = size(batch) if callable(size) else size
            if left is None or key is not None:
                starts = slice_starts(batch, width, key)
            else:
                starts = tail_starts(batch.num_rows, width, left, workers)
                left -= batch.num_rows
            for k, (start, end) in enumerate(itertools.pairwise([*starts, batch.num_rows])):
                last.append(k == len(starts) - 1)
                if len(starts) == 1:
                    yield batch
                else:  # a view in this process; its own copy for a worker
                    yield cut(batch, start, end - start) if workers > 1 else batch.slice(start, end - start)

    parts: list[Any] = []
    # Results are yielded in order: a slow slice at the head holds back the ones behind it, so
    # keep more small slices queued than whole batches (8 slices of `size` rows per worker), or a
    # worker that finished its share sits idle behind a slow page of the other.
    for result in ordered_map(task, slices(), workers, window=8):
        parts.append(result)
        if last.popleft():
            yield merge(parts)
            parts = []


def tail_starts(n_rows: int, size: int, left: int, workers: int) -> list[int]:
    """Where each slice of a batch of `n_rows` starts when `left` rows (this batch's included)
    are still to be sent: `size` rows, or fewer near the end, down to one row (guided
    self-scheduling: a slice is at most 1/`_TAIL` of one worker's share of what is left).

    Pages take from milliseconds to seconds: with slices of 32 pages to the end, one of two
    workers of the 804 development pages finished 0.8 to 1.6 s after the other (up to 8% of the
    stage; one last slice took 3.1 s).
    """
    starts, at = [], 0
    while at < n_rows or not starts:
        starts.append(at)
        at += max(1, min(size, -(-(left - at) // (_TAIL * workers))))
    return starts


def slice_starts(batch: Any, size: int, key: str | None = None) -> list[int]:
    """Where each slice of `batch` starts: every `size` rows, or every `size` runs of `key`."""
    if key is None or batch.num_rows == 0:
        return list(range(0, max(batch.num_rows, 1), size))
    # Imported here: the CLI imports this module, and `pipeline --help` must not pay for Arrow.
    import numpy as np
    import pyarrow.compute as pc

    col = batch.column(key)
    changes = pc.not_equal(col.slice(1), col.slice(0, batch.num_rows - 1))
    runs = np.flatnonzero(changes.to_numpy(zero_copy_only=False)) + 1
    return [0, *runs[size - 1::size].tolist()]


def cut(batch: Any, start: int, size: int) -> Any:
    """Rows `start` to `start + size` of `batch` in buffers of their own, to be pickled to a worker.

    An Arrow slice is a view that pickles the whole of its parent's buffers: each 32-page slice
    of a 256-page batch shipped all 256 pages (64 MB) to a worker, eight times per batch, and the
    parent spent most of its time pickling them. `take` copies just the slice's rows.
    """
    part_cut = getattr(batch, "cut", None)  # a part of a file (`parquet_io.RowGroupPart`): no rows yet
    if part_cut is not None:
        return part_cut(start, size)
    import numpy as np

    n = min(size, batch.num_rows - start)
    return batch.take(np.arange(start, start + n, dtype=np.int64))
