"""How every process of a run logs: the `pipeline` command, pool workers, Ray actors.

trafilatura warns about a page's markup as it extracts ("empty link", "missing link attribute",
"discarding data: None"): 88 warnings on the 804 development pages, so about 110,000 per
million pages, printed even by `pipeline -q`. They are not actionable, most do not say which
page, and every page already ends as an article or as a reject row with its reason. So
trafilatura logs only its errors, unless `-v` asks for everything.
"""

from __future__ import annotations

import logging
import sys

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
# Libraries whose warnings are about one page's markup, not about the run.
_PER_PAGE = ("trafilatura",)


def configure(level: int) -> None:
    """Log at `level` to stderr; the per-page libraries at ERROR unless `level` is DEBUG (-v)."""
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)
    for name in _PER_PAGE:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else max(level, logging.ERROR))
