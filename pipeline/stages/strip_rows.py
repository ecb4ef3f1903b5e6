"""Strip's bookkeeping of a batch's rows: which it looks at, in what order, and the columns it
writes back."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import schema
from pipeline.rules import Rule, heuristics

if TYPE_CHECKING:
    from pipeline.stages.strip import DocVerdict

STAGE = "strip"


class BatchRows:
    """A batch's kept rows (the only ones strip looks at) grouped by document, each document's in
    paragraph order, and the marks made on them. Only the columns the rules read are converted
    to lists; status, stage, rule_id and reason are written back as whole columns changed at the
    few marked rows (converting every column of a batch both ways cost more than marking it)."""

    def __init__(self, paragraphs: pa.Table) -> None:
        self.source = paragraphs
        kept = pc.fill_null(pc.equal(paragraphs.column("status"), schema.KEPT), False)
        rows = np.flatnonzero(kept.to_numpy(zero_copy_only=False))
        # Documents in the order of their first kept row; lexsort is stable: equal para_idx
        # keep their row order.
        docs = paragraphs.column("doc_id").take(rows).combine_chunks().dictionary_encode()
        codes = docs.indices.to_numpy(zero_copy_only=False)
        paras = paragraphs.column("para_idx").take(rows).to_numpy()
        self.rows = rows[np.lexsort((paras, codes))]
        self.at = self.rows.tolist()
        ends = np.cumsum(np.bincount(codes, minlength=len(docs.dictionary))).tolist()
        self.docs = list(zip(docs.dictionary.to_pylist(), [0, *ends][:len(ends)], ends, strict=True))
        self.texts = paragraphs.column("text").take(self.rows).to_pylist()
        self.tags, self.links = self._listed("tag"), self._listed("link_density")
        self.marked: dict[int, tuple[Rule, DocVerdict]] = {}

    def _listed(self, name: str) -> list[Any] | None:
        """A column in `rows` order; None if it is all null (plain text knows no tags or links:
        a DocView without them reads the same)."""
        column = self.source.column(name)
        return None if column.null_count == len(column) else column.take(self.rows).to_pylist()

    def view(self, start: int, end: int, title: str | None) -> heuristics.DocView:
        return heuristics.DocView(self.texts[start:end], () if self.tags is None else self.tags[start:end],
                                  () if self.links is None else self.links[start:end], title)

    def update(self, start: int, verdict: DocVerdict) -> None:
        for k, rule in enumerate(verdict.marks):
            if rule is not None:
                self.marked[self.at[start + k]] = (rule, verdict)

    def _values(self, guard_fraction: float) -> dict[str, tuple[list[int], list[str]]]:
        """The changed rows of each written column, in row order, and their new values."""
        at = sorted(self.marked)
        marked = [self.marked[i] for i in at]
        removed_at: list[int] = []
        reasons: list[str] = []
        for i, (rule, verdict) in zip(at, marked, strict=True):
            if verdict.guarded and not rule.guard_exempt:
                share, flagged = verdict.removed_fraction, f"{rule.kind}: {rule.reason}"
                reasons.append(f"kept by guard: rules would remove {share:.0%} of the "
                               f"document (> {guard_fraction:.0%}); flagged as {flagged}")
            else:
                removed_at.append(i)
                reasons.append(f"{rule.kind}: {rule.reason}")  # per row: a site template names its count
        return {"status": (removed_at, [schema.REMOVED] * len(removed_at)), "stage": (at, [STAGE] * len(at)),
                "rule_id": (at, [rule.id for rule, _ in marked]), "reason": (at, reasons)}

    def table(self, guard_fraction: float) -> pa.Table:
        values = self._values(guard_fraction)
        arrays = []
        for f in schema.PARAGRAPHS:
            column = self.source.column(f.name)
            if f.name in values:
                column = schema.write_at(column, *values[f.name], column.type)
            arrays.append(column.cast(f.type) if column.type != f.type else column)
        return pa.Table.from_arrays(arrays, schema=schema.PARAGRAPHS)


def counters(out: pa.Table, guarded: list[str]) -> dict[str, Any]:
    """Paragraphs in (kept before this stage), removed per rule, and what the guard kept."""
    here = pc.fill_null(pc.equal(out.column("stage"), STAGE), False)
    removed = pc.and_(here, pc.fill_null(pc.equal(out.column("status"), schema.REMOVED), False))
    kept_in = pc.or_(here, pc.fill_null(pc.equal(out.column("status"), schema.KEPT), False))
    n_here, n_removed, n_in = (int(pc.sum(m.cast(pa.int64())).as_py() or 0) for m in (here, removed, kept_in))
    by_rule = Counter(out.column("rule_id").filter(removed).to_pylist())
    return {"paragraphs_in": n_in, "removed": n_removed, "kept": n_in - n_removed,
            "removed_by_rule": dict(sorted(by_rule.items())), "guarded_documents": len(guarded),
            "guarded_paragraphs": n_here - n_removed}
