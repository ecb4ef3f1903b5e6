"""Export streams documents and their paragraphs batch by batch: the dataset must not depend on
the batch size, and paragraphs that do not line up with the document rows stop the run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import RAW

from pipeline import parquet_io as pio
from pipeline import rawdir, runner, schema
from pipeline.export_errors import AccountingError
from pipeline.params import IngestParams, Params, StripParams
from pipeline.stages import export, ingest

DATA = Path(__file__).resolve().parent / "data"


def _frames(out: Path) -> dict[str, pd.DataFrame]:
    return {n: pd.read_parquet(out / f"{n}.parquet") for n in ("articles", "paragraphs", "rejects")}


@pytest.mark.parametrize("cut", [IngestParams(batch_size=2), IngestParams(batch_bytes=20_000)],
                         ids=["batch_size", "batch_bytes"])
def test_the_dataset_does_not_depend_on_the_batch_size(cut: IngestParams, tmp_path: Path) -> None:
    runner.run_all(RAW, tmp_path / "one", Params())
    # strip.batch_rows=3 joins the small row groups again, three paragraphs or more at a time.
    counters = runner.run_all(RAW, tmp_path / "many", Params(ingest=cut, strip=StripParams(batch_rows=3)))
    one, many = _frames(tmp_path / "one"), _frames(tmp_path / "many")
    assert len(one["articles"]) == 8
    assert counters["ingest"]["documents"] == 8
    assert pio.num_rows(tmp_path / "many" / "stages" / "ingest" / "documents.parquet") == 8
    assert pq.ParquetFile(tmp_path / "many" / "stages" / "ingest" / "documents.parquet").num_row_groups > 2
    for name in one:
        # params_hash differs by design: it hashes every param, batch size included.
        pd.testing.assert_frame_equal(one[name].drop(columns="params_hash", errors="ignore"),
                                      many[name].drop(columns="params_hash", errors="ignore"))


def _docs(*ids: str) -> pa.Table:
    return pa.Table.from_pylist([{"doc_id": d} for d in ids], schema=pa.schema([("doc_id", pa.string())]))


def _paras(*ids: str) -> pa.Table:
    rows = [{"doc_id": d, "para_idx": i, "text": "x", "status": "kept"} for i, d in enumerate(ids)]
    return pa.Table.from_pylist(rows, schema=schema.PARAGRAPHS)


def test_paragraphs_are_matched_to_their_batch_across_row_groups() -> None:
    pairs = list(export.aligned(iter([_docs("a", "b"), _docs("c")]),
                                 iter([_paras("a", "a", "b"), _paras("b", "c"), _paras("c")])))
    assert [p.column("doc_id").to_pylist() for _, p in pairs] == [["a", "a", "b", "b"], ["c", "c"]]


def test_paragraphs_after_the_last_document_stop_the_export() -> None:
    with pytest.raises(AccountingError, match="paragraphs of 'z' come after the last document row"):
        list(export.aligned(iter([_docs("a")]), iter([_paras("a", "z")])))


def test_export_batch_tallies_each_document_in_para_idx_order() -> None:
    from pipeline.stages import export

    rows = [("b", 1, "b1", "removed", "dedup"), ("a", 2, "a2", "kept", "strip"),
            ("b", 0, "b0", "removed", "strip"), ("a", 0, "a0", "kept", None),
            ("a", 1, "a1", "removed", "strip"), ("a", 3, "a3", "removed", "dedup")]
    paras = pa.Table.from_pylist([{"doc_id": d, "para_idx": i, "text": t, "status": s, "stage": st,
                                   "reason": "why" if s == "removed" else None} for d, i, t, s, st in rows],
                                 schema=schema.PARAGRAPHS)
    docs = pa.Table.from_pylist([{"doc_id": d, "source_path": f"{d}.txt"} for d in ("b", "a")],
                                schema=schema.DOCUMENTS.remove(schema.DOCUMENTS.get_field_index("extracted_text")))
    res = export.export_batch(docs, paras, export.RunInfo("v", "p", "r", 2))
    [art] = res.tables["articles"].to_pylist()
    assert (art["doc_id"], art["text"], art["n_paragraphs"], art["n_kept"]) == ("a", "a0\n\na2", 4, 2)
    assert (art["n_removed_chrome"], art["n_removed_duplicate"], art["strip_guarded"]) == (1, 1, True)
    [rej] = res.tables["rejects"].to_pylist()
    assert rej["doc_id"] == "b" and "(1 as chrome, 1 as duplicates" in rej["reason"]
    assert res.tables["paragraphs"].column("doc_id").to_pylist() == ["a"] * 4 + ["b"] * 2


def test_raw_batches_end_at_their_size_or_their_bytes() -> None:
    rows = [{"source_path": f"f{i}", "data": b"x" * n} for i, n in enumerate([5, 5, 30, 1, 1, 1])]
    sizes = [t.num_rows for t in rawdir.batches(iter(rows), 3, max_bytes=10)]
    assert sizes == [2, 1, 3]  # 5+5 reaches 10; 30 alone; then three rows reach the size
    assert [t.num_rows for t in rawdir.batches(iter(rows), 4, max_bytes=10**9)] == [4, 2]
    assert [len(b) for b in rawdir.batches(iter(rows), 3, max_bytes=10, tables=False)] == [2, 1, 3]


def test_ingest_reads_raw_rows_as_it_reads_their_table(tmp_path: Path) -> None:
    """The local engine hands ingest its raw rows, Ray their table: the same documents, rejects
    and counters, for single files (rows with four fields) and container records alike."""
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    for name in ("sample.warc.gz", "sample.jsonl", "sample.parquet"):
        shutil.copy(DATA / name, raw / name)
    (raw / "empty.txt").write_bytes(b"")  # a reject
    params = IngestParams()
    files, refused = rawdir.list_raw(raw)
    rows = list(rawdir.raw_rows(raw, files, refused, params))
    assert any("record" not in row for row in rows) and any("record" in row for row in rows)
    ids = ingest.assign_doc_ids(files)
    as_rows = list(rawdir.batches(iter(rows), 5, 10**9, tables=False))
    as_tables = list(rawdir.batches(iter(rows), 5, 10**9))
    assert len(as_rows) == len(as_tables) > 1
    for batch_rows, table in zip(as_rows, as_tables, strict=True):
        got, want = ingest.run(batch_rows, params, ids), ingest.run(table, params, ids)
        assert got.counters == want.counters
        for name in ("documents", "rejects"):
            assert got.tables[name].equals(want.tables[name]), name
    assert sum(ingest.run(b, params, ids).counters["rejects"] for b in as_rows) >= 1
