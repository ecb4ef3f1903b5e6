"""Making scraped text safe to print: it may carry terminal escape sequences or stray newlines."""

from __future__ import annotations

import re

# C0 and C1 controls except tab: ESC alone is enough to recolour or rewrite a terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """One line of text with every control character shown as an escape (\\n, \\x1b, ...)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
