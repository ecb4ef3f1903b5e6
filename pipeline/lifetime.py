"""How a worker process ends: with its parent, and with the run that started it, killed or not,
so that no orphan keeps running (pool workers, signing ahead, the extraction processes)."""

from __future__ import annotations

import ctypes
import os
import select
import signal
import sys
import threading

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent (`parent_pid`) dies (best effort elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def end_with(run_pid: int) -> None:
    """End this worker when the run ends, killed or not.

    The kernel can only tie a process to its parent, here the fork server, and the fork server
    waits for its workers before it exits; so a thread waits on the run's pidfd instead (it costs
    nothing while it waits). Without pidfds (not Linux) this is best effort, as before.
    """
    try:
        fd = os.pidfd_open(run_pid)
    except ProcessLookupError:  # the run ended before this worker got going
        os._exit(1)
    except (AttributeError, OSError):
        return

    def wait() -> None:
        select.select([fd], [], [])
        os._exit(1)

    threading.Thread(target=wait, name="end-with-run", daemon=True).start()
