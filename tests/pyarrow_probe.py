"""A task for a pool worker, in a module that imports no pandas (test modules do, through conftest):
does pyarrow import pandas there?"""

from __future__ import annotations

import sys


def pandas_after_pa_array(_: object) -> bool:
    import pyarrow as pa

    pa.array(["a"])
    pa.Table.from_pylist([{"a": 1}])
    return "pandas" in sys.modules
