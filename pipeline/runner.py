"""Entry points: read upstream Parquet and params, call a pure stage, write its outputs atomically.

Layout under OUT: `stages/<stage>/*.parquet` (each stage's own view, always zstd),
`metrics/<stage>.json`, and the final `articles.parquet`, `paragraphs.parquet`, `rejects.parquet`
(compressed as `export.compression` says).
"""

from __future__ import annotations

import logging
import os
import stat
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline import __version__, schema
from pipeline import parquet_io as pio
from pipeline.export_errors import UnsafePathError
from pipeline.params import Params
from pipeline.progress import progress_bar
from pipeline.result import StageResult
from pipeline.rules import load_rules
from pipeline.rules.templates import TemplateIndex
from pipeline.stages import dedup, export, extract, ingest, strip

log = logging.getLogger(__name__)
STAGES = ("ingest", "extract", "strip", "dedup", "export")


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


def list_raw(raw_dir: Path) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """Files under raw_dir as sorted relative POSIX paths, plus paths refused before reading.

    Symlinks are never followed into folders (a folder symlink is reported, not walked), and a
    file symlink that resolves outside raw_dir is refused: reported as a reject, never read.
    Refusals map the path to (reason code, message).
    """
    root = raw_dir.resolve()
    files: list[str] = []
    refused: dict[str, tuple[str, str]] = {}
    for dirpath, dirnames, filenames in os.walk(raw_dir, followlinks=False):
        dirnames.sort()
        for name in [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            rel = (Path(dirpath) / name).relative_to(raw_dir).as_posix()
            refused[rel] = ("symlink_directory", "symlink to a folder; not followed")
            files.append(rel)
        for name in filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(raw_dir).as_posix()
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                refused[rel] = ("symlink_outside_raw", "symlink points outside the raw folder; not followed")
            files.append(rel)
    return sorted(files), refused


def _read_raw(path: Path, max_bytes: int) -> tuple[bytes | None, tuple[str, str] | None]:
    """The bytes of one file, or why not; size and type are checked before anything is read."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            return None, ("not_a_regular_file", "not a regular file (FIFO, socket or device); not read")
        if st.st_size > max_bytes:
            return None, ("too_large", f"{st.st_size} bytes > ingest.max_file_bytes; not read")
        return path.read_bytes(), None
    except OSError as exc:
        return None, ("unreadable", f"cannot read file ({exc.strerror or exc})")


def _raw_batches(raw_dir: Path, files: list[str], refused: dict[str, tuple[str, str]],
                 size: int, max_bytes: int) -> Iterator[pa.Table]:
    for start in range(0, len(files), size):
        rows = []
        for rel in files[start:start + size]:
            data, err = None, refused.get(rel)
            if err is None:
                data, err = _read_raw(raw_dir / rel, max_bytes)
            code, message = err or (None, None)
            rows.append({"source_path": rel, "data": data, "read_error": message, "read_error_code": code})
        yield pa.Table.from_pylist(rows, schema=schema.RAW)


def _stream_stage(out: Path, stage: str, results: Iterator[StageResult],
                  outputs: dict[str, pa.Schema]) -> dict[str, Any]:
    """Write each batch's tables as it comes, then the merged counters as the stage's metrics."""
    parts: list[dict[str, Any]] = []
    with pio.StreamWriters(stage_dir(out, stage), outputs) as writers:
        for res in results:
            for name in outputs:
                writers.write(name, res.tables[name])
            parts.append(res.counters)
    return _merge_counters(parts)


def run_ingest(raw_dir: Path, out: Path, params: Params) -> dict[str, Any]:
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw folder {raw_dir} does not exist or is not a folder")
    if out.resolve().is_relative_to(raw_dir.resolve()):
        # A run would read its own outputs back as input on the next run.
        raise UnsafePathError(f"output folder {out} is inside the raw folder {raw_dir}; choose another")
    files, refused = list_raw(raw_dir)
    ids = ingest.assign_doc_ids(files)

    def results() -> Iterator[StageResult]:
        with progress_bar(len(files), "ingest", "file") as bar:
            for batch in _raw_batches(raw_dir, files, refused, params.ingest.batch_size,
                                      params.ingest.max_file_bytes):
                yield ingest.run(batch, params.ingest, ids)
                bar.update(batch.num_rows)

    counters = _stream_stage(out, "ingest", results(),
                             {"documents": schema.DOCUMENTS_RAW, "rejects": schema.REJECTS})
    counters.setdefault("rejects_by_reason", {})
    _write_metrics(out, "ingest", counters)
    _summary("ingest", counters.get("documents", 0), counters.get("files", 0), "files")
    return counters


def _merge_counters(parts: list[dict[str, Any]]) -> dict[str, Any]:
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


def run_extract(out: Path, params: Params) -> dict[str, Any]:
    src = _need(stage_dir(out, "ingest") / "documents.parquet", "ingest")
    n_docs = pio.read_table(src, columns=["doc_id"]).num_rows

    def results() -> Iterator[StageResult]:
        # One extraction worker for the whole stage: a restart per batch would cost a fork each.
        with progress_bar(n_docs, "extract", "doc") as bar, extract.limited_extractor(params.extract) as html:
            for batch in pio.iter_row_groups(src):
                yield extract.run(batch, params.extract, html_extractor=html, progress=bar.update)

    counters = _stream_stage(out, "extract", results(), {
        "documents": schema.DOCUMENTS, "paragraphs": schema.PARAGRAPHS, "rejects": schema.REJECTS})
    _write_metrics(out, "extract", counters)
    _summary("extract", counters.get("documents", 0), counters.get("documents_in", 0), "documents")
    return counters


def _site_templates(paragraphs: Path, docs: pa.Table, params: Params) -> TemplateIndex | None:
    """The corpus pass of strip: count short paragraphs per site over every batch."""
    if not params.strip.site_template_min_docs:
        return None
    sites = strip.sites_of(docs)
    counts: Counter = Counter()
    for batch in pio.iter_row_groups(paragraphs, columns=["doc_id", "text"]):
        counts.update(strip.learn_templates(batch, sites, params.strip))
    kept = {k: n for k, n in counts.items() if n >= params.strip.site_template_min_docs}
    return TemplateIndex(kept, params.strip.site_template_min_docs, params.strip.site_template_max_words)


def run_strip(out: Path, params: Params) -> dict[str, Any]:
    src = stage_dir(out, "extract")
    _need(src / "paragraphs.parquet", "extract")
    rules = load_rules(disabled=params.strip.disabled_rules)
    docs = pio.read_table(src / "documents.parquet",
                          columns=["doc_id", "hostname", "source_path", "source_format", "title"])
    index = _site_templates(src / "paragraphs.parquet", docs, params)

    def results() -> Iterator[StageResult]:
        with progress_bar(docs.num_rows, "strip", "doc") as bar:
            for batch in pio.iter_row_groups(src / "paragraphs.parquet"):
                yield strip.run(batch, docs, rules, params.strip, index)
                bar.update(len(set(batch.column("doc_id").to_pylist())))

    counters = _stream_stage(out, "strip", results(), {"paragraphs": schema.PARAGRAPHS})
    counters["rules_hash"] = rules.digest
    _write_metrics(out, "strip", counters)
    _summary("strip", counters.get("kept", 0), counters.get("paragraphs_in", 0), "paragraphs")
    return counters


def run_dedup(out: Path, params: Params) -> dict[str, Any]:
    table = pio.read_table(_need(stage_dir(out, "strip") / "paragraphs.parquet", "strip"))
    docs = pio.read_table(stage_dir(out, "extract") / "documents.parquet", columns=["doc_id", "date"])
    n_live = pc.sum(pc.equal(table.column("status"), schema.KEPT)).as_py() or 0
    with progress_bar(n_live, "dedup", "para") as bar:
        def progress(phase: str, k: int) -> None:
            bar.set_description(f"dedup: {phase}", refresh=False)
            bar.update(k)

        res = dedup.run(table, params.dedup, docs, progress)
    for name in ("paragraphs", "dup_clusters"):
        pio.write_table(res.tables[name], stage_dir(out, "dedup") / f"{name}.parquet")
    _write_metrics(out, "dedup", res.counters)
    _summary("dedup", res.counters["kept"], res.counters["paragraphs_in"], "paragraphs")
    return res.counters


def run_export(out: Path, params: Params) -> dict[str, Any]:
    ing, ext = stage_dir(out, "ingest"), stage_dir(out, "extract")
    _need(stage_dir(out, "dedup") / "paragraphs.parquet", "dedup")
    ingest_rejects = pio.read_table(ing / "rejects.parquet")
    n_files = pio.read_table(ing / "documents.parquet", columns=["doc_id"]).num_rows \
        + ingest_rejects.num_rows
    cols = [c for c in schema.DOCUMENTS.names if c != "extracted_text"]
    n_paragraphs = pio.read_table(ext / "paragraphs.parquet", columns=["para_idx"]).num_rows
    info = export.RunInfo(__version__, params.digest(),
                          load_rules(disabled=params.strip.disabled_rules).digest, n_files, n_paragraphs)
    res = export.run(pio.read_table(ext / "documents.parquet", columns=cols),
                     pio.read_table(stage_dir(out, "dedup") / "paragraphs.parquet"),
                     pa.concat_tables([ingest_rejects, pio.read_table(ext / "rejects.parquet")]), info)
    for name in ("articles", "paragraphs", "rejects"):
        pio.write_table(res.tables[name], out / f"{name}.parquet", params.export.compression)
    clusters = pio.read_table(stage_dir(out, "dedup") / "dup_clusters.parquet")
    pio.write_table(clusters, out / "dup_clusters.parquet", params.export.compression)
    _write_metrics(out, "export", res.counters)
    _summary("export", res.counters["articles"], res.counters["input_files"], "input files as articles")
    return res.counters


def run_all(raw_dir: Path, out: Path, params: Params) -> dict[str, dict[str, Any]]:
    """Every stage in order, through the same entry points the DVC stages call."""
    return {"ingest": run_ingest(raw_dir, out, params), "extract": run_extract(out, params),
            "strip": run_strip(out, params), "dedup": run_dedup(out, params),
            "export": run_export(out, params)}
