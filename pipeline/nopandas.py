"""pyarrow kept from importing pandas in the stage commands' processes.

pyarrow, when pandas is installed, imports it on the first `pa.array` of a process (and most of
its constructors call `pa.array`), only to ask whether the argument is a pandas object. That
import was 0.15 s of every stage command and of every `pipeline run`, whose code never hands
pyarrow a pandas object nor asks it for one (`to_pandas`): the audit commands do, and they are
not stage commands.

pyarrow looks for pandas once per process and remembers what it found. `keep_pyarrow_from_pandas`
makes that one look fail (an import hook refuses pandas for the length of one `pa.array` call,
then is removed): from then on pyarrow treats pandas as not installed, and converts Python lists
and numpy arrays as it did (the outputs are the same bytes: tests/test_nopandas.py and the
benchmark corpora). Anything that imports pandas itself still gets it.

The CLI's stage commands on the local engine do this for their own process (and the extraction
process of a 1-worker run, forked from it). The pool's fork server, a fresh interpreter, does it
when it imports this module (`pool._PRELOAD`), so its workers inherit it: the server imported
pandas for them before, 0.18 s of its 0.5 s of imports. Code that imports `pipeline` as a
library keeps pyarrow's pandas support.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from types import ModuleType

from pipeline import serverexit


class _Refuse(importlib.abc.MetaPathFinder):
    """Fails every import of pandas, as if it were not installed."""

    def find_spec(self, name: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"pandas is kept from pyarrow ({__name__})", name=name)


def keep_pyarrow_from_pandas() -> bool:
    """Have pyarrow take pandas as absent in this process; False (nothing done) if pandas or
    pyarrow's pandas support is loaded already."""
    if "pandas" in sys.modules or "pyarrow.pandas_compat" in sys.modules:
        return False
    refuse = _Refuse()
    sys.meta_path.insert(0, refuse)
    try:
        import pyarrow as pa

        pa.array([0])  # pyarrow's one look for pandas
    finally:
        sys.meta_path.remove(refuse)
    return "pandas" not in sys.modules


if serverexit.in_fork_server():
    keep_pyarrow_from_pandas()
