"""Work on the next items of an iterator on a background thread, a bounded number ahead.

For a stage in one process whose per-batch work is partly in Arrow or numpy kernels that release
the GIL: while this thread runs the Python part of one batch, the background thread reads the
next and runs its kernels, on a second core when there is one. The items and the results are the
same as without it, in the same order; only when they are computed changes.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
_END = object()


class ReadAhead(Generic[T, R]):
    """`(item, fn(item))` for each item, in order, computed at most `depth` items ahead of the
    consumer. A context manager: the thread starts on entry (so it can work while the caller does
    something else first) and is stopped on exit, consumed or not. An exception of the iterator or
    of `fn` is raised where the consumer reaches that item."""

    def __init__(self, items: Iterable[T], fn: Callable[[T], R], depth: int = 2) -> None:
        if depth < 1:
            raise ValueError("depth must be at least 1")
        self._items, self._fn = items, fn
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="read-ahead", daemon=True)

    def __enter__(self) -> ReadAhead[T, R]:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock a thread waiting to put
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    def _put(self, value: Any) -> bool:
        """Put `value` unless stopped first; whether it was put."""
        while not self._stop.is_set():
            try:
                self._queue.put(value, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        try:
            for item in self._items:
                if self._stop.is_set() or not self._put((item, self._fn(item))):
                    return
        except BaseException as err:  # handed to the consumer, raised there
            self._put(err)
            return
        self._put(_END)

    def __iter__(self) -> Iterator[tuple[T, R]]:
        while True:
            value = self._queue.get()
            if value is _END:
                return
            if isinstance(value, BaseException):
                raise value
            yield value
