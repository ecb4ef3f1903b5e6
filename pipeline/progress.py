"""Progress bars for long stages: shown on a terminal, silent in CI and in pipes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def progress_bar(total: int, desc: str, unit: str) -> Iterator[Any]:
    from tqdm import tqdm

    # disable=None lets tqdm turn itself off when stderr is not a terminal (CI, pipes, DVC logs).
    with tqdm(total=total, desc=desc, unit=unit, disable=None, file=sys.stderr,
              leave=False, dynamic_ncols=True) as bar:
        yield bar
