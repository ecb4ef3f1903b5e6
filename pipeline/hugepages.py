"""Transparent huge pages off for the pipeline's processes.

The stages' batch passes allocate and fill tens of MB of fresh memory at a time (Arrow buffers,
numpy temporaries, Python strings). Where the kernel backs that with transparent huge pages, each
first touch zeroes 2 MB, and on the 2-core VMs this project runs on that made the system time
of a stage uneven: strip on the 4,000-document text benchmark took 0.73 to 0.88 s with them and
0.64 to 0.72 s without (6 runs each), the whole HTML run 36.1 to 37.9 s against 35.5 to 36.5 s.
`pipeline --huge-pages` keeps the system's setting.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)
PR_SET_THP_DISABLE = 41  # linux/prctl.h; inherited by children, kept across exec


def disable() -> bool:
    """Ask the kernel not to use transparent huge pages for this process and the processes it
    starts (workers, the extraction process); False where it cannot (not Linux, old kernel)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        done = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        done = False
    log.debug("transparent huge pages %s", "off" if done else "left as the system has them")
    return done
