"""Parse trees of the rules' regular expressions (`re._parser`), once per pattern and process.

The safety check, `prefilter.needs_of` and the RE2 gate (`re2gate.superset`, `re2gate.scans`) each
read a rule's parse tree: one parse of the 51 line rules takes about 7 ms, so three of the four
cost about 20 ms of every strip run. The trees are shared, so their readers must not change them
(none does).
"""

from __future__ import annotations

from functools import lru_cache
from re import _parser
from typing import Any


@lru_cache(maxsize=1024)
def parse(pattern: str, flags: int) -> Any:
    """The parse tree of `pattern` with `flags`, as `re._parser.parse` gives it (read-only)."""
    return _parser.parse(pattern, flags)
