"""strip's corpus pass: site templates learnt over every batch, for `runner.run_strip`."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import parquet_io as pio
from pipeline import pool, slicing, tasks
from pipeline.params import Params
from pipeline.rules import templates
from pipeline.rules.templates import TemplateIndex
from pipeline.stages import strip


def site_templates(paragraphs: Path, docs: pa.Table, params: Params, workers: int,
                   map_fn: pool.Mapper, keys_to: Path | None = None) -> TemplateIndex | None:
    """The corpus pass of strip: count short paragraphs per site over every batch.

    A document's paragraphs are all in one row group, so per-batch counts of distinct documents
    add up to the corpus counts in any order. `keys_to`: a Parquet file to keep every paragraph's
    key in (column `template_key`, in the paragraphs' order), so the mark pass does not compute
    them again.
    """
    if not params.strip.site_template_min_docs:
        return None
    task = tasks.LearnTask(strip.sites_of(docs), params.strip)
    parts: list[pa.Table] = []
    batches = pio.iter_row_groups(paragraphs, columns=["doc_id", "text"], min_rows=params.strip.batch_rows)
    with contextlib.ExitStack() as stack:
        writer = None if keys_to is None else stack.enter_context(pq.ParquetWriter(keys_to, strip.KEYS))
        for counts, keys in slicing.sliced(task, batches, params, workers, map_fn, _add_learnt, key="doc_id"):
            parts.append(counts)
            if len(parts) >= 32:  # add up as we go: the parts repeat a site's templates
                parts = [templates.add_counts(parts)]
            if writer is not None:
                writer.write_table(keys)
    return TemplateIndex.of_counts(templates.add_counts(parts), params.strip.site_template_min_docs,
                                   params.strip.site_template_max_words)


def _add_learnt(parts: list[tuple[pa.Table, pa.Table]]) -> tuple[pa.Table, pa.Table]:
    """The learn pass's results for the slices of one batch, in order, as the batch's."""
    if len(parts) == 1:
        return parts[0]
    return templates.add_counts([c for c, _ in parts]), pa.concat_tables([k for _, k in parts])
