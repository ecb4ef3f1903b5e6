"""Imported by the pool's fork server only (first of `pool._PRELOAD`): the server ends without
the interpreter's teardown, and forks its workers with SIGINT blocked.

The fork server exits when the run does (its pipe to the run closes). Unloading trafilatura,
pandas and the stage code took it about 0.1 s, and until then it held the run's stdout and
stderr open: whoever read a 2-worker run's output through a pipe (a shell pipeline, a scheduler,
`subprocess.run(capture_output=True)`, the speed benchmark) waited 0.09 to 0.10 s after the run
had ended (300 pages, measured from the run's exit to the pipe's end of file). Its children end
with `os._exit` already (multiprocessing's fork server does that), so this changes only the
server's own exit.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing.forkserver
import os
import signal
import sys


def _end() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed: nothing left to lose
            stream.flush()
    os._exit(0)


def in_fork_server() -> bool:
    """Is the caller being imported as the fork server's preload (`multiprocessing.forkserver.main`
    up the stack)? `pipeline.warmup` asks too. Imported anywhere else, this module does nothing:
    a process that skipped its teardown would also skip its own exit code and handlers (pytest's,
    for one)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is multiprocessing.forkserver.main.__code__:
            return True
        frame = frame.f_back
    return False


if in_fork_server():
    atexit.register(_end)
    # The server ignores SIGINT; with it blocked too, every worker it forks starts with it
    # blocked until the worker ignores it (`stopping.leave_sigint_to_parent`), so a Ctrl-C
    # that comes while a worker starts cannot give that worker a traceback.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
