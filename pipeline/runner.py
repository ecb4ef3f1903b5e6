"""Entry points: read upstream Parquet and params, call a pure stage, write its outputs atomically.

Layout under OUT: `stages/<stage>/*.parquet` (each stage's own view, always zstd),
`metrics/<stage>.json`, and the final `articles.parquet`, `paragraphs.parquet`, `rejects.parquet`
(compressed as `export.compression` says).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline import (
    __version__,
    dedup_run,
    pool,
    presign,
    rawdir,
    readahead,
    schema,
    slicing,
    strip_run,
    tasks,
    timing,
)
from pipeline import parquet_io as pio
from pipeline.dedup import plan
from pipeline.export_errors import UnsafePathError
from pipeline.params import Params
from pipeline.progress import progress_bar
from pipeline.result import StageResult, merge_counters, merge_results
from pipeline.rules import load_rules, rules_digest
from pipeline.stages import dedup, export, ingest, strip

log = logging.getLogger(__name__)
STAGES = ("ingest", "extract", "strip", "dedup", "export")
Mapper = pool.Mapper


def stage_dir(out: Path, stage: str) -> Path:
    return out / "stages" / stage


def _need(path: Path, upstream: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `pipeline {upstream}` first "
                                f"(or `pipeline run` for every stage)")
    return path


def _write_metrics(out: Path, stage: str, counters: dict[str, Any]) -> None:
    pio.write_json({stage: counters}, out / "metrics" / f"{stage}.json")


def _summary(stage: str, kept: int, total: int, unit: str) -> None:
    share = f"{kept / total:.1%}" if total else "n/a"
    log.info("%s: kept %s of %s %s (%s)", stage, f"{kept:,}", f"{total:,}", unit, share)


def _stream_stage(out: Path, stage: str, results: Iterator[StageResult],
                  outputs: dict[str, pa.Schema]) -> dict[str, Any]:
    """Write each batch's tables as it comes, then the merged counters as the stage's metrics."""
    parts: list[dict[str, Any]] = []
    with pio.StreamWriters(stage_dir(out, stage), outputs) as writers:
        for res in results:
            for name in outputs:
                writers.write(name, res.tables[name])
            parts.append(res.counters)
    return merge_counters(parts)


def run_ingest(raw_dir: Path, out: Path, params: Params, workers: int = 1,
               map_fn: Mapper = pool.ordered_map, pool_follows: bool = False) -> dict[str, Any]:
    """Ingest; `pool_follows`: extract runs next in this process with `workers` (`pipeline run`)."""
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw folder {raw_dir} does not exist or is not a folder")
    if out.resolve().is_relative_to(raw_dir.resolve()):
        # A run would read its own outputs back as input on the next run.
        raise UnsafePathError(f"output folder {out} is inside the raw folder {raw_dir}; choose another")
    files, refused = rawdir.list_raw(raw_dir)
    if map_fn is pool.ordered_map:
        if pool_follows and workers > 1 and len(files) > params.extract.batch_size:
            pool.start_server()  # extract's pool: its imports run on the other core while ingest reads
        # Decoding costs about what shipping raw bytes to a pool worker and the text back costs:
        # with 2 local workers ingest took 0.5x-0.9x the time of one (benchmarks.scale, .speed).
        # Workers reading the files themselves (only the decoded text shipped back) was no
        # better: 1.65-1.95 s against 1.31-1.63 s in this process for the 804 pages.
        workers = 1
    task = tasks.IngestTask(params.ingest, ingest.assign_doc_ids(files))

    def results() -> Iterator[StageResult]:
        # Files are read (and containers streamed) here; decoding runs here too on the local
        # engine, on the actors with Ray.
        with progress_bar(len(files), "ingest", "file") as bar:
            rows = rawdir.raw_rows(raw_dir, files, refused, params.ingest, bar.update)
            # The local engine ingests in this process: its batches stay Python rows. As Arrow
            # tables they were converted only to be converted straight back: ingest of the 804
            # pages took 0.78 s that way against 0.71 s (warm, medians of 5 alternated runs).
            cut = rawdir.batches(rows, params.ingest.batch_size, params.ingest.batch_bytes,
                                 tables=map_fn is not pool.ordered_map)
            yield from map_fn(task, cut, workers)

    counters = _stream_stage(out, "ingest", results(),
                             {"documents": schema.DOCUMENTS_RAW, "rejects": schema.REJECTS})
    counters.update(files=len(files))
    for key in ("rejects_by_reason", "records_skipped"):
        counters.setdefault(key, {})
    _write_metrics(out, "ingest", counters)
    _summary("ingest", counters.get("documents", 0), counters.get("inputs", 0),
             "inputs (files and container records)")
    return counters


def run_extract(out: Path, params: Params, workers: int = 1,
                map_fn: Mapper = pool.ordered_map) -> dict[str, Any]:
    src = _need(stage_dir(out, "ingest") / "documents.parquet", "ingest")
    n_docs = pio.num_rows(src)
    task = tasks.ExtractTask(params.extract)

    def results() -> Iterator[StageResult]:
        # One time-limited extraction worker per process for the whole stage, not one per batch.
        with progress_bar(n_docs, "extract", "doc") as bar:
            try:
                if workers <= 1 and map_fn is pool.ordered_map:
                    # In this process: whole batches, counted page by page (slices of them would
                    # run one after the other only to be merged back).
                    for batch in pio.iter_row_groups(src):
                        yield task(batch, progress=bar.update)
                    return
                # The local pool's workers read their pages from the file (`RowGroupPart`); Ray's
                # actors may be on other machines: they get the rows.
                parts = pio.row_group_parts(src) if map_fn is pool.ordered_map else pio.iter_row_groups(src)
                for res in slicing.sliced(task, parts, params, workers, map_fn, merge_results, total=n_docs):
                    bar.update(res.counters["documents_in"])
                    yield res
            finally:
                task.close()

    counters = _stream_stage(out, "extract", results(), {
        "documents": schema.DOCUMENTS, "paragraphs": schema.PARAGRAPHS, "rejects": schema.REJECTS})
    _write_metrics(out, "extract", counters)
    _summary("extract", counters.get("documents", 0), counters.get("documents_in", 0), "documents")
    return counters


def run_strip(out: Path, params: Params, workers: int = 1, map_fn: Mapper = pool.ordered_map,
              read_ahead: bool = True) -> dict[str, Any]:
    """strip; `read_ahead`: when it runs in this process, read its mark pass ahead on a thread
    (`pipeline run` says no while dedup's signing process has the other core)."""
    src = stage_dir(out, "extract")
    _need(src / "paragraphs.parquet", "extract")
    small = pio.num_rows(src / "paragraphs.parquet") < params.strip.parallel_min_paragraphs
    if map_fn is pool.ordered_map and small:
        workers = 1  # a pool would cost more than it saves (see StripParams.parallel_min_paragraphs)
    read_ahead = read_ahead and map_fn is pool.ordered_map and workers <= 1
    rules = load_rules(disabled=params.strip.disabled_rules)
    docs = pio.read_table(src / "documents.parquet",
                          columns=["doc_id", "hostname", "source_path", "source_format", "title"])
    matchers: dict[tuple[Any, ...], Any] = {}  # line matchers, shared by the read-ahead and the task
    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(pio.scratch_path(stage_dir(out, "strip") / "template_keys.parquet"))
        ahead = None
        if read_ahead:
            # The mark pass's batches are read, and their line-rule candidates found (RE2 and numpy
            # over Arrow, which release the GIL), on a thread while the learn pass and then the
            # previous batch's marking run here.
            ahead = stack.enter_context(readahead.ReadAhead(
                pio.iter_row_groups(src / "paragraphs.parquet", min_rows=params.strip.batch_rows),
                lambda batch: strip.batch_gates(batch, docs, rules, matchers)))
        index = strip_run.site_templates(src / "paragraphs.parquet", docs, params, workers, map_fn, scratch)
        keys = scratch if index is not None else None
        task = tasks.StripTask(rules, docs, params.strip, index, matchers)

        def marked() -> Iterator[StageResult]:
            if ahead is not None:
                column = None if keys is None else pio.ColumnReader(keys, "template_key")
                for batch, gates in ahead:
                    if column is not None:
                        batch = batch.append_column("template_key", column.take(batch.num_rows))
                    yield task(batch, gates)
                return
            batches = pio.iter_row_groups(src / "paragraphs.parquet", min_rows=params.strip.batch_rows)
            if keys is not None:
                batches = pio.with_column(batches, keys, "template_key")
            yield from slicing.sliced(task, batches, params, workers, map_fn, merge_results, key="doc_id")

        def results() -> Iterator[StageResult]:
            with progress_bar(docs.num_rows, "strip", "doc") as bar:
                for res in marked():
                    bar.update(pc.count_distinct(res.tables["paragraphs"].column("doc_id")).as_py())
                    yield res

        counters = _stream_stage(out, "strip", results(), {"paragraphs": schema.PARAGRAPHS})
    counters["rules_hash"] = rules.digest
    _write_metrics(out, "strip", counters)
    _summary("strip", counters.get("kept", 0), counters.get("paragraphs_in", 0), "paragraphs")
    return counters


def run_dedup(out: Path, params: Params, workers: int = 1, map_fn: Mapper = pool.ordered_map,
              presigned: presign.Presigned | None = None) -> dict[str, Any]:
    """dedup's signing and band phases over `workers` (any count gives the same bytes); the merge
    and the filter in this process. `presigned`: the paragraphs signed ahead (`pipeline.presign`)."""
    src = _need(stage_dir(out, "strip") / "paragraphs.parquet", "strip")
    docs = pio.read_table(stage_dir(out, "extract") / "documents.parquet", columns=["doc_id", "date"])
    status = pio.read_table(src, columns=["status"]).column("status")
    n_live = pc.sum(pc.equal(status, schema.KEPT)).as_py() or 0
    with progress_bar(n_live, "dedup", "para") as bar:
        def progress(phase: str, k: int) -> None:
            bar.set_description(f"dedup: {phase}", refresh=False)
            bar.update(k)

        counters = dedup_run.run(src, stage_dir(out, "dedup"), params.dedup, dedup.dates_of(docs), progress,
                                 plan.Run(map_fn, workers), presigned)
    _write_metrics(out, "dedup", counters)
    _summary("dedup", counters["kept"], counters["paragraphs_in"], "paragraphs")
    return counters


def run_export(out: Path, params: Params) -> dict[str, Any]:
    ing, ext, ded = stage_dir(out, "ingest"), stage_dir(out, "extract"), stage_dir(out, "dedup")
    _need(ded / "paragraphs.parquet", "dedup")
    ingest_rejects = pio.read_table(ing / "rejects.parquet")
    earlier_rejects = pa.concat_tables([ingest_rejects, pio.read_table(ext / "rejects.parquet")])
    n_inputs = pio.num_rows(ing / "documents.parquet") + ingest_rejects.num_rows
    cols = [c for c in schema.DOCUMENTS.names if c != "extracted_text"]
    n_paragraphs = pio.num_rows(ext / "paragraphs.parquet")
    info = export.RunInfo(__version__, params.digest(),
                          rules_digest(), n_inputs, n_paragraphs)
    ledger, emptied = export.Ledger(info), [earlier_rejects.cast(schema.REJECTS)]
    outputs = {"articles": schema.ARTICLES, "paragraphs": schema.PARAGRAPHS}
    # Streamed batch by batch; nothing is renamed into place unless the ledger closes cleanly.
    with pio.StreamWriters(out, outputs, params.export.compression) as writers:
        pairs = export.aligned(pio.iter_row_groups(ext / "documents.parquet", columns=cols),
                               pio.iter_row_groups(ded / "paragraphs.parquet"))
        for docs, paras in pairs:
            res = export.export_batch(docs, paras, info)
            ledger.add(res)
            emptied.append(res.tables["rejects"])
            for name in outputs:
                writers.write(name, res.tables[name])
        rejects = export.sort_rejects(pa.concat_tables(emptied))
        counters = ledger.close(rejects)
    pio.write_table(rejects, out / "rejects.parquet", params.export.compression)
    clusters = pio.read_table(ded / "dup_clusters.parquet")
    pio.write_table(clusters, out / "dup_clusters.parquet", params.export.compression)
    _write_metrics(out, "export", counters)
    _summary("export", counters["articles"], counters["input_documents"], "input documents as articles")
    return counters


def run_all(raw_dir: Path, out: Path, params: Params, workers: int = 1) -> dict[str, dict[str, Any]]:
    """Every stage in order, through the same entry points the DVC stages call; `workers`
    processes for the per-document stages (ingest, extract, strip)."""
    return run_all_timed(raw_dir, out, params, workers)[0]


def run_all_timed(raw_dir: Path, out: Path, params: Params,
                  workers: int = 1) -> tuple[dict[str, dict[str, Any]], list[timing.StageTime]]:
    """`run_all`, also returning each stage's time; the table of them ends the run's log.

    With more than one worker, dedup's signing runs in a process of its own while strip runs
    (`pipeline.presign`; not for a small corpus): one stage at a time would leave a core idle."""
    ahead = presign.Ahead(workers > 1, stage_dir(out, "extract") / "paragraphs.parquet",
                          stage_dir(out, "dedup"), params.dedup)
    results: dict[str, dict[str, Any]] = {}

    def strip_step() -> dict[str, Any]:
        ahead.start(results["extract"].get("paragraphs", 0))
        # Not strip's read-ahead thread as well: beside the signing process it made the counting
        # ahead late (804 pages, 2 workers: strip 0.56-0.58 s against 0.61-0.64, but dedup
        # 0.37-0.42 s against 0.27-0.28, 3 runs each).
        return run_strip(out, params, workers, read_ahead=not ahead.started)

    steps = {"ingest": lambda: run_ingest(raw_dir, out, params, workers, pool_follows=True),
             "extract": lambda: run_extract(out, params, workers),
             "strip": strip_step,
             "dedup": lambda: run_dedup(out, params, workers, presigned=ahead.presigned()),
             "export": lambda: run_export(out, params)}
    times: list[timing.StageTime] = []
    with ahead:
        for stage, step in steps.items():
            results[stage], took = timing.timed(stage, step)
            times.append(took)
    log.info("time per stage (wall clock, %d worker%s):\n%s", workers, "" if workers == 1 else "s",
             timing.table(times))
    return results, times
