"""A run stopped by Ctrl-C (SIGINT) or by SIGTERM (what schedulers, `timeout`, systemd and
Kubernetes send) ends the same clean way: the stage that was running unwinds, so its temporary
files are removed and its pools are stopped; the stages that finished keep their outputs; one line
says so; and the process ends killed by that signal, as shells and schedulers expect of a command
that was stopped (a shell loop stops too).

Python turns SIGINT into KeyboardInterrupt but lets SIGTERM end the process at once, leaving a
stage's temporary files and multiprocessing's folder behind; so `pipeline` raises `Stopped`
(a KeyboardInterrupt, which `except Exception` does not catch) for SIGTERM while a command runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import NoReturn


class Stopped(KeyboardInterrupt):
    """The command was asked to stop by a signal other than SIGINT."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """SIGTERM raises `Stopped` in the main thread while the block runs (elsewhere: unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set a handler; its owner decides
        return
    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def signum_of(exc: KeyboardInterrupt) -> int:
    return exc.signum if isinstance(exc, Stopped) else signal.SIGINT


def describe(signum: int, stages: bool = True) -> str:
    """The line a stopped command logs; `stages`: it was running stages (not reading a run)."""
    stopped = f"stopped by {signal.Signals(signum).name}"
    if not stages:
        return stopped
    return (f"{stopped}: the stages that finished have their outputs in place; the stage that was "
            f"running left no temporary file. Run the same command again to finish")


@contextlib.contextmanager
def sigint_blocked() -> Iterator[None]:
    """SIGINT held back in this thread while the block runs, delivered after it if it came.

    Around a fork: the child starts with SIGINT blocked, so a Ctrl-C that reaches the terminal's
    whole group while the child is still starting cannot raise KeyboardInterrupt inside it
    ("Exception ignored in: <function _after_fork>", then a traceback) before
    `leave_sigint_to_parent` runs."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def leave_sigint_to_parent() -> None:
    """In a worker process: Ctrl-C is the run's to handle (it stops and kills its workers), so
    the worker ignores it, then unblocks it (a worker forked with it blocked, see
    `sigint_blocked`, drops one that came meanwhile)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def die_by(signum: int) -> NoReturn:
    """End this process killed by `signum` (its default action), once output is flushed."""
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    os._exit(128 + signum)  # not reached where the signal's default action ends the process
