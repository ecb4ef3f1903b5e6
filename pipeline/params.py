"""Stage parameters: one frozen dataclass per `params.yaml` section, validated on construction."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ParamsError(ValueError):
    """A params file is malformed or holds an impossible value."""


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ParamsError(message)


@dataclass(frozen=True)
class IngestParams:
    batch_size: int = 256
    # A batch also ends once its inputs hold this many bytes, so a batch of large pages stays a
    # few tens of MB (256 pages of 50 MB would be 12 GB), and memory freed by one batch is reused
    # by the next: on the 804 development pages (180 kB each) a cold ingest spent 0.36 to 0.97 s
    # in the kernel (fresh memory) in batches of 256, 0.11 to 0.19 s in batches of 16 MB or 64.
    batch_bytes: int = 16_000_000
    max_file_bytes: int = 50_000_000
    # Cap on gzip output: a small .gz can expand to gigabytes (a "gzip bomb").
    max_decompressed_bytes: int = 50_000_000
    # Share of C0 control characters above which decoded text is treated as binary.
    max_control_char_ratio: float = 0.01
    # WARC, JSONL and Parquet files are streamed record by record, so `max_file_bytes` does not
    # apply to them; it applies to each record's content instead. This caps the (decompressed)
    # bytes read from one such file: past it, the rest of the file is a reject.
    max_container_bytes: int = 20_000_000_000
    # Field (JSONL key, Parquet column) names of one document per row.
    id_field: str = "id"
    url_field: str = "url"
    html_field: str = "html"
    text_field: str = "text"

    def __post_init__(self) -> None:
        _check(self.batch_size >= 1, "ingest.batch_size must be >= 1")
        _check(self.batch_bytes >= 1, "ingest.batch_bytes must be >= 1")
        _check(self.max_file_bytes >= 1, "ingest.max_file_bytes must be >= 1")
        _check(self.max_decompressed_bytes >= 1, "ingest.max_decompressed_bytes must be >= 1")
        _check(self.max_container_bytes >= 1, "ingest.max_container_bytes must be >= 1")
        _check(0.0 <= self.max_control_char_ratio < 1.0, "ingest.max_control_char_ratio must be in [0, 1)")
        fields = self.fields()
        _check(all(isinstance(f, str) and f.strip() for f in fields),
               "ingest.id_field, url_field, html_field and text_field must be non-empty strings")
        _check(len(set(fields)) == len(fields),
               "ingest.id_field, url_field, html_field and text_field must be four different names")

    def fields(self) -> tuple[str, str, str, str]:
        return (self.id_field, self.url_field, self.html_field, self.text_field)


@dataclass(frozen=True)
class ExtractParams:
    batch_size: int = 32  # documents per unit of work sent to a worker (split from ingest's batches)
    include_tables: bool = True
    favor_precision: bool = False
    favor_recall: bool = False
    title_max_words: int = 30
    title_min_words: int = 3
    title_search_lines: int = 3
    # htmldate otherwise caps dates at "today", which would make output depend on the clock.
    date_max: str = "2100-12-31"
    # Wall-clock limit on one page's extraction (in a worker process); over it: reject
    # `extract_timeout`. 0 turns the limit and the worker off.
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        _check(self.batch_size >= 1, "extract.batch_size must be >= 1")
        _check(isinstance(self.timeout_seconds, int | float) and 0 <= self.timeout_seconds <= 3600,
               "extract.timeout_seconds must be a number of seconds in [0, 3600] (0: no limit)")
        _check(not (self.favor_precision and self.favor_recall),
               "extract.favor_precision and extract.favor_recall are mutually exclusive")
        _check(1 <= self.title_min_words <= self.title_max_words,
               "extract.title_min_words must be >= 1 and <= title_max_words")
        _check(self.title_search_lines >= 1, "extract.title_search_lines must be >= 1")
        _check(bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.date_max)),
               "extract.date_max must be a YYYY-MM-DD date")


@dataclass(frozen=True)
class StripParams:
    # Above this share of a document's characters, strip keeps the document as it is (the guard).
    guard_max_removed_fraction: float = 0.7
    disabled_rules: tuple[str, ...] = ()
    # A paragraph of at most this many words found in this many documents of one site is template
    # chrome (rule `site_template`); 0 turns the corpus pass off.
    site_template_min_docs: int = 3
    site_template_max_words: int = 40
    # Strip works on extract's row groups joined up to this many paragraphs (whole documents):
    # each batch has fixed costs (the RE2 gates alone, compiled per call: about 6 ms a batch),
    # which row groups of 256 text documents (5,000 paragraphs) paid 16 times for 80,000.
    batch_rows: int = 65_536
    # Fewer paragraphs than this are stripped in one process whatever --workers says: each of
    # strip's two passes starts a pool whose workers unpickle the rules and build their matchers,
    # and the batch is shipped to them. The 804 development pages (57,298 paragraphs): 0.52 s in
    # one process, 0.79-0.82 s with two workers. Ray is not affected.
    parallel_min_paragraphs: int = 100_000

    def __post_init__(self) -> None:
        _check(self.batch_rows >= 1, "strip.batch_rows must be >= 1")
        _check(self.parallel_min_paragraphs >= 0, "strip.parallel_min_paragraphs must be >= 0")
        _check(0.0 < self.guard_max_removed_fraction <= 1.0,
               "strip.guard_max_removed_fraction must be in (0, 1]")
        _check(self.site_template_min_docs == 0 or self.site_template_min_docs >= 2,
               "strip.site_template_min_docs must be 0 (off) or >= 2")
        _check(self.site_template_max_words >= 1, "strip.site_template_max_words must be >= 1")
        _check(all(isinstance(r, str) and r for r in self.disabled_rules),
               "strip.disabled_rules must be a list of rule ids")


DEDUP_SCOPES = ("both", "within_document", "across_documents")
DEDUP_SURVIVORS = ("first", "longest_document", "earliest_date")
DEDUP_BACKENDS = ("bands", "datasketch")


@dataclass(frozen=True)
class DedupParams:
    threshold: float = 0.8
    num_perm: int = 128
    shingle_size: int = 3
    seed: int = 1
    # Explicit LSH band split (bands * rows <= num_perm); null lets datasketch choose.
    lsh_bands: int | None = 16
    lsh_rows: int | None = 8
    # Paragraphs with fewer words are only deduplicated exactly: a one-word edit moves
    # the Jaccard of a handful of shingles too far for MinHash to mean anything.
    minhash_min_words: int = 6
    # Paragraphs with fewer words are not deduplicated at all: short headings and list items
    # ("Services", "Key results") legitimately repeat within a page (measured on the dev sets).
    min_words: int = 4
    # A pair within one document is a copy only if both paragraphs have at least this many words
    # (0: off): a questionnaire's repeated questions and short table headers repeat by design.
    within_document_min_words: int = 9
    # Which pairs count: both, within_document only, or across_documents only.
    scope: str = "both"
    # Which member of a cluster survives: first by (doc_id, para_idx), the member in the document
    # with the most kept text, or the member in the document with the earliest date.
    survivor: str = "first"
    # LSH implementation: numpy band-key group-by, or datasketch's MinHashLSH (same decisions).
    backend: str = "bands"
    # A band bucket of more rows than this + 1 pairs each row with its next `bucket_cap` only.
    bucket_cap: int = 50
    # Share of a paragraph's shingles found in a longer one to report it as `contained_in`.
    containment_threshold: float = 0.8
    # Remove a contained paragraph, or only report it (quoting across articles is legitimate).
    remove_contained_within_document: bool = False
    remove_contained_across_documents: bool = False
    # A near copy (not an exact one) must carry the same numbers: "20% off with $40" and "20% off
    # with $55" are different facts however similar the words.
    numbers_must_agree: bool = True
    # Paragraphs per shard of the signing and filter phases: their memory is one shard's texts and
    # signatures; only the merge holds a few numbers per paragraph of the whole corpus.
    shard_rows: int = 65536

    def __post_init__(self) -> None:
        _check(0.0 < self.threshold <= 1.0, "dedup.threshold must be in (0, 1]")
        _check(self.num_perm >= 16, "dedup.num_perm must be >= 16")
        _check(1 <= self.shingle_size <= 8, "dedup.shingle_size must be in [1, 8]")
        _check(self.minhash_min_words >= 1, "dedup.minhash_min_words must be >= 1")
        _check(self.min_words >= 1, "dedup.min_words must be >= 1")
        _check(type(self.within_document_min_words) is int and self.within_document_min_words >= 0,
               "dedup.within_document_min_words must be an integer >= 0")
        _check(self.scope in DEDUP_SCOPES, f"dedup.scope must be one of {', '.join(DEDUP_SCOPES)}")
        _check(self.survivor in DEDUP_SURVIVORS,
               f"dedup.survivor must be one of {', '.join(DEDUP_SURVIVORS)}")
        _check(self.backend in DEDUP_BACKENDS, f"dedup.backend must be one of {', '.join(DEDUP_BACKENDS)}")
        _check(self.bucket_cap >= 1, "dedup.bucket_cap must be >= 1")
        _check(type(self.shard_rows) is int and self.shard_rows >= 1,
               "dedup.shard_rows must be an integer >= 1")
        _check(0.0 < self.containment_threshold <= 1.0, "dedup.containment_threshold must be in (0, 1]")
        _check((self.lsh_bands is None) == (self.lsh_rows is None),
               "dedup.lsh_bands and dedup.lsh_rows must be set together")
        if self.lsh_bands is not None and self.lsh_rows is not None:
            _check(self.lsh_bands >= 1 and self.lsh_rows >= 1, "dedup.lsh_bands/lsh_rows must be >= 1")
            _check(self.lsh_bands * self.lsh_rows <= self.num_perm,
                   "dedup.lsh_bands * dedup.lsh_rows must be <= dedup.num_perm")

    def band_split(self) -> tuple[int, int]:
        """(bands, rows): the explicit split, or datasketch's optimum for the threshold."""
        if self.lsh_bands is not None and self.lsh_rows is not None:
            return self.lsh_bands, self.lsh_rows
        from datasketch.lsh import _optimal_param

        return _optimal_param(self.threshold, self.num_perm, 0.5, 0.5)


@dataclass(frozen=True)
class ExportParams:
    compression: str = "zstd"

    def __post_init__(self) -> None:
        _check(self.compression in {"zstd", "snappy", "gzip", "none"},
               "export.compression must be one of zstd, snappy, gzip, none")


@dataclass(frozen=True)
class Params:
    ingest: IngestParams = field(default_factory=IngestParams)
    extract: ExtractParams = field(default_factory=ExtractParams)
    strip: StripParams = field(default_factory=StripParams)
    dedup: DedupParams = field(default_factory=DedupParams)
    export: ExportParams = field(default_factory=ExportParams)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def digest(self) -> str:
        """sha256 of the canonical JSON of every section: what `params_hash` records."""
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


_CLASSES = {"ingest": IngestParams, "extract": ExtractParams, "strip": StripParams,
            "dedup": DedupParams, "export": ExportParams}


def _section(name: str, raw: Any) -> Any:
    cls = _CLASSES[name]
    if raw is None:
        return cls()
    _check(isinstance(raw, dict), f"params section '{name}' must be a mapping")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - known)
    _check(not unknown, f"unknown key(s) in params section '{name}': {', '.join(unknown)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    try:
        return cls(**values)
    except TypeError as exc:
        raise ParamsError(f"params section '{name}': {exc}") from exc


def params_from_mapping(raw: Any) -> Params:
    raw = raw or {}
    _check(isinstance(raw, dict), "params file must hold a mapping of sections")
    unknown = sorted(set(raw) - set(_CLASSES))
    _check(not unknown, f"unknown params section(s): {', '.join(unknown)}")
    return Params(**{name: _section(name, raw.get(name)) for name in _CLASSES})


def load_params(path: Path | None) -> Params:
    """Read `params.yaml`; a missing path means the defaults (the same values as the shipped file)."""
    if path is None:
        return Params()
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ParamsError(f"cannot read params file {path}: {exc}") from exc
    return params_from_mapping(raw)
