"""Run a function under a wall-clock limit in a worker process that can be killed.

Why a process and not SIGALRM: an alarm only fires in the main thread and only between Python
bytecodes, so a page that keeps lxml busy inside one C call (a huge tree, a pathological parse)
cannot be stopped by it; a child process can always be killed, and whatever memory a hostile
page made it allocate goes with it. The worker is started on the first call and reused; after a
timeout or a crash it is replaced, so one bad page costs one restart.

The worker is forked (not spawned) so it inherits the already imported extractor and any
callable, including test doubles that cannot be pickled; it only runs the extractor, never
Arrow or the writers, so the threads of the parent (Arrow's pools, the thread that encodes the
stage's Parquet while the next batch is extracted) do not matter to it: the locks a fork may copy
held are theirs, and glibc's malloc takes its own across the fork.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from pipeline.lifetime import die_with_parent
from pipeline.pool import reply_of, value_of
from pipeline.stopping import leave_sigint_to_parent, sigint_blocked

log = logging.getLogger(__name__)
_CTX = mp.get_context("fork")


class TimeLimitExceeded(Exception):
    """The call ran longer than its limit; the worker was killed."""


class WorkerCrashed(Exception):
    """The worker died while running the call (killed by the OS, a segfault in C code...)."""


class CallFailed(Exception):
    """`fn` raised in the worker; the message is `<original type>: <original message>`."""


def _serve(fn: Callable[..., Any], conn: Connection, parent_pid: int) -> None:
    # A forked child keeps its own copy of the parent's end of the pipe, so it would never see
    # EOF if the parent were killed: let the kernel end it with its parent instead.
    die_with_parent(parent_pid)
    # Ctrl-C reaches every process of the terminal's group: stopping is the parent's to handle
    # (it kills this worker), not a traceback of this one's.
    leave_sigint_to_parent()
    while True:
        try:
            args = conn.recv()
        except EOFError:
            return
        conn.send(reply_of(fn, *args))


class TimeLimited:
    """`fn(*args)` in a worker process, at most `seconds` per call (0: in this process, no limit).

    An exception inside `fn` comes back as CallFailed naming the original type; a call over
    the limit raises TimeLimitExceeded; a worker that dies raises WorkerCrashed.
    """

    def __init__(self, fn: Callable[..., Any], seconds: float) -> None:
        self.fn, self.seconds = fn, seconds
        self._proc: Any = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        parent, child = _CTX.Pipe()
        self._proc = _CTX.Process(target=_serve, args=(self.fn, child, os.getpid()), daemon=True)
        with sigint_blocked():
            self._proc.start()
        child.close()
        self._conn = parent
        return parent

    def __call__(self, *args: Any) -> Any:
        if not self.seconds:
            return self.fn(*args)
        conn = self._conn or self._start()
        try:
            conn.send(args)
            ready = conn.poll(self.seconds)
            reply = conn.recv() if ready else None
        except (EOFError, OSError) as exc:
            self.close()
            raise WorkerCrashed(f"worker process died ({exc or type(exc).__name__})") from exc
        if reply is None:
            self.close()
            raise TimeLimitExceeded(f"still running after {self.seconds:g} s")
        return value_of(reply, CallFailed)

    def close(self) -> None:
        """Stop the worker (killed: it may be stuck in C code and cannot be asked nicely)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            self._proc.kill()
            self._proc.join()
            self._proc = None

    def __enter__(self) -> TimeLimited:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
