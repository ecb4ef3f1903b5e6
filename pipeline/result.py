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


def merge_counters(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum per-batch counters, nested dicts key by key."""
    total: dict[str, Any] = {}
    for part in parts:
        for k, v in part.items():
            if isinstance(v, dict):
                sub = total.setdefault(k, {})
                for kk, vv in v.items():
                    sub[kk] = sub.get(kk, 0) + vv
            else:
                total[k] = total.get(k, 0) + v
    return {k: (dict(sorted(v.items())) if isinstance(v, dict) else v) for k, v in total.items()}


def merge_results(parts: list[StageResult]) -> StageResult:
    """One batch's result from the results of its slices, as if it had been run whole."""
    if len(parts) == 1:
        return parts[0]
    tables = {name: pa.concat_tables([p.tables[name] for p in parts]).combine_chunks()
              for name in parts[0].tables}
    return StageResult(tables, pa.concat_tables([p.removed for p in parts]).combine_chunks(),
                       merge_counters([p.counters for p in parts]))
