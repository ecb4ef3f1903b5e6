"""Export streams documents and their paragraphs batch by batch: the dataset must not depend on
the batch size, and paragraphs that do not line up with the document rows stop the run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from conftest import RAW

from pipeline import runner, schema
from pipeline.export_errors import AccountingError
from pipeline.params import IngestParams, Params


def _frames(out: Path) -> dict[str, pd.DataFrame]:
    return {n: pd.read_parquet(out / f"{n}.parquet") for n in ("articles", "paragraphs", "rejects")}


def test_the_dataset_does_not_depend_on_the_batch_size(tmp_path: Path) -> None:
    runner.run_all(RAW, tmp_path / "one", Params())
    runner.run_all(RAW, tmp_path / "many", Params(ingest=IngestParams(batch_size=2)))
    one, many = _frames(tmp_path / "one"), _frames(tmp_path / "many")
    assert len(one["articles"]) == 8
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
    pairs = list(runner._aligned(iter([_docs("a", "b"), _docs("c")]),
                                 iter([_paras("a", "a", "b"), _paras("b", "c"), _paras("c")])))
    assert [p.column("doc_id").to_pylist() for _, p in pairs] == [["a", "a", "b", "b"], ["c", "c"]]


def test_paragraphs_after_the_last_document_stop_the_export() -> None:
    with pytest.raises(AccountingError, match="paragraphs of 'z' come after the last document row"):
        list(runner._aligned(iter([_docs("a")]), iter([_paras("a", "z")])))
