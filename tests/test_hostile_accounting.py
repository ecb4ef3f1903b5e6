"""Export refuses to write a dataset with holes: every file and every paragraph has one fate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import RAW, ROOT

from pipeline import parquet_io as pio
from pipeline import runner, schema
from pipeline.export_errors import AccountingError
from pipeline.params import Params
from pipeline.stages import export


def _docs(*ids: str) -> pa.Table:
    rows = [{"doc_id": d, "source_path": f"{d}.txt", "source_sha256": "0", "source_format": "text"}
            for d in ids]
    return pa.Table.from_pylist(rows, schema=schema.DOCUMENTS).drop_columns(["extracted_text"])


def _paras(*rows: tuple[str, int, str], **extra: object) -> pa.Table:
    return pa.Table.from_pylist([{"doc_id": d, "para_idx": i, "text": f"{d} {i}", "status": s, **extra}
                                 for d, i, s in rows], schema=schema.PARAGRAPHS)


def _rejects(*paths: str) -> pa.Table:
    return pa.Table.from_pylist([schema.reject_row(p, "empty_file", "empty", "ingest") for p in paths],
                                schema=schema.REJECTS)


def _info(files: int, paragraphs: int | None = None) -> export.RunInfo:
    return export.RunInfo("v", "p", "r", files, paragraphs)


GOOD = (_docs("a", "b"), _paras(("a", 0, "kept"), ("a", 1, "kept"), ("b", 0, "kept")), _rejects("c.txt"))


def test_consistent_tables_pass() -> None:
    res = export.run(*GOOD, _info(3, 3))
    assert res.counters["articles"] == 2 and res.counters["rejects"] == 1


@pytest.mark.parametrize("tables, info, message", [
    (GOOD, _info(4, 3), "4 input documents \\(single files and records of container files\\) "
                        "but 2 articles \\+ 1 rejects"),
    ((GOOD[0], GOOD[1], _rejects("c.txt", "d.txt")), _info(3, 3), "3 input documents .* but 2 articles "
                                                                   "\\+ 2 rejects"),
    ((GOOD[0], GOOD[1], _rejects("a.txt")), _info(3, 3), "more than one fate, e.g. 'a.txt'"),
    (GOOD, _info(3, 4), "extract wrote 4 paragraphs but 3 reached export"),
    ((GOOD[0], _paras(("a", 0, "kept"), ("a", 0, "kept"), ("b", 0, "kept")), GOOD[2]), _info(3, 3),
     "paragraph a:0 appears 2 times"),
    ((GOOD[0], _paras(("a", 0, "kept"), ("a", 1, "maybe"), ("b", 0, "kept")), GOOD[2]), _info(3, 3),
     "statuses outside kept/removed"),
    ((GOOD[0], _paras(("a", 0, "kept"), ("a", 1, "removed"), ("b", 0, "kept")), GOOD[2]), _info(3, 3),
     "a:1 is removed without a stage and a reason"),
    ((GOOD[0], _paras(("a", 0, "kept"), ("b", 0, "kept"), ("z", 0, "kept")), GOOD[2]), _info(3, 3),
     "have paragraphs but no document row, e.g. 'z'"),
    ((GOOD[0], _paras(("a", 0, "kept"), ("a", 1, "kept")), GOOD[2]), _info(3, 2),
     "have no paragraph row, e.g. 'b'"),
])
def test_inconsistent_tables_stop_the_export(tables, info, message: str) -> None:
    with pytest.raises(AccountingError, match=message):
        export.run(*tables, info)


def test_a_lost_paragraph_stops_the_cli_with_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    params = Params()
    runner.run_ingest(RAW, tmp_path, params)
    for stage in ("extract", "strip", "dedup"):
        getattr(runner, f"run_{stage}")(tmp_path, params)
    dedup_paras = tmp_path / "stages" / "dedup" / "paragraphs.parquet"
    table = pio.read_table(dedup_paras)
    pio.write_table(table.filter(pc.not_equal(table.column("para_idx"), 3)), dedup_paras)
    res = subprocess.run([sys.executable, "-m", "pipeline", "export", "--out", str(tmp_path),
                          "--params", str(ROOT / "params.yaml")],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 2
    assert "paragraphs but" in res.stderr and "reached export" in res.stderr
    assert "Traceback" not in res.stderr
    assert not any((tmp_path / f"{n}.parquet").exists() for n in ("articles", "paragraphs", "rejects"))
