"""The per-batch work of the per-document stages as picklable objects, for `pool.ordered_map`.

Each holds what every batch needs (params, rules, corpus-wide lookups) and is sent once to each
pool worker; calling it with one batch runs the stage's pure function on that batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline import parquet_io as pio
from pipeline import timelimit
from pipeline.params import ExtractParams, IngestParams, StripParams
from pipeline.result import StageResult
from pipeline.rules import RuleSet
from pipeline.rules.lines import LineMatcher
from pipeline.rules.templates import TemplateIndex
from pipeline.stages import extract, ingest, strip

if TYPE_CHECKING:
    import numpy as np


@dataclass
class IngestTask:
    params: IngestParams
    doc_ids: dict[str, str]  # path -> id, from the whole listing

    def __call__(self, raw: pa.Table | list[dict[str, Any]]) -> StageResult:
        return ingest.run(raw, self.params, self.doc_ids)


@dataclass
class ExtractTask:
    """Extraction of one batch; each process (the parent, or a pool worker) owns one time-limited
    extraction worker, started on first use and reused across batches (a fork costs)."""

    params: ExtractParams
    # A module-level function (pool workers receive it by reference).
    html_extractor: Callable[[str, ExtractParams], extract.Extracted | None] = extract.extract_html
    _limited: timelimit.TimeLimited | None = field(default=None, repr=False)
    _reader: pio.PartReader | None = field(default=None, repr=False)

    def __call__(self, documents: pa.Table | pio.RowGroupPart,
                 progress: Callable[[int], None] | None = None) -> StageResult:
        if self._limited is None:
            self._limited = extract.limited_extractor(self.params, self.html_extractor)
        if isinstance(documents, pio.RowGroupPart):  # a pool worker reads its pages itself
            self._reader = self._reader or pio.PartReader()
            documents = self._reader.read(documents)
        return extract.run(documents, self.params, html_extractor=self._limited, progress=progress)

    def __getstate__(self) -> dict[str, Any]:
        # The extraction worker is a process: each pool worker starts its own (and its own reader).
        return {"params": self.params, "html_extractor": self.html_extractor, "_limited": None,
                "_reader": None}

    def close(self) -> None:
        if self._limited is not None:
            self._limited.close()
            self._limited = None


@dataclass
class LearnTask:
    """strip's corpus pass over one batch of paragraphs: counts that add up across batches."""

    sites: dict[str, str]
    params: StripParams

    def __call__(self, paragraphs: pa.Table) -> tuple[pa.Table, pa.Table]:
        return strip.learn_templates(paragraphs, self.sites, self.params)


@dataclass
class StripTask:
    rules: RuleSet
    documents: pa.Table  # doc_id, hostname, source_path, source_format, title of the whole corpus
    params: StripParams
    index: TemplateIndex | None
    # Line matchers built in this process, kept for every batch and slice the task is called on.
    matchers: dict[tuple[Any, ...], LineMatcher] = field(default_factory=dict, compare=False, repr=False)

    def __call__(self, paragraphs: pa.Table,
                 gates: dict[LineMatcher, np.ndarray] | None = None) -> StageResult:
        """`gates`: `strip.batch_gates` of the batch, computed ahead with `matchers` as the cache."""
        # Only this batch's documents: strip.run builds lookups over every document it is given.
        ids = pc.unique(paragraphs.column("doc_id"))
        docs = self.documents.filter(pc.is_in(self.documents.column("doc_id"), value_set=ids))
        return strip.run(paragraphs, docs, self.rules, self.params, self.index, self.matchers, gates)
