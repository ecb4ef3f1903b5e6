"""What every stage returns: its output tables, the rows it removed with a reason, and counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass(frozen=True)
class StageResult:
    # Output tables by name; the entry point writes each as `<name>.parquet`.
    tables: dict[str, pa.Table]
    # Rows this stage removed or rejected, each carrying its reason (a view for auditing).
    removed: pa.Table
    counters: dict[str, Any] = field(default_factory=dict)
