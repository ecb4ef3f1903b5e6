"""The per-stage time table of a run: logged for the user, never written to an output."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from conftest import RAW

from pipeline import runner, timing
from pipeline.params import Params


def test_table_shares_and_rates() -> None:
    times = [timing.StageTime("extract", 3.0, 300, "docs", 2.5),
             timing.StageTime("dedup", 1.0, None, "paras", 1.25)]
    lines = timing.table(times).splitlines()
    assert lines[2] == "| extract | 3.00 | 75% | 2.50 | 100 docs/s |"
    assert lines[3] == "| dedup | 1.00 | 25% | 1.25 | n/a |"
    assert lines[-1] == "| total | 4.00 | 100% | 3.75 | |"
    unknown = timing.table([timing.StageTime("ingest", 1.0, 1, "inputs")]).splitlines()
    assert unknown[2] == "| ingest | 1.00 | 100% | n/a | 1 inputs/s |"
    assert unknown[-1] == "| total | 1.00 | 100% | n/a | |"


def test_timed_reads_the_work_from_the_stage_counters(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="pipeline.timing"):
        result, took = timing.timed("strip", lambda: {"paragraphs_in": 50, "kept": 40})
    assert result == {"paragraphs_in": 50, "kept": 40}
    assert (took.stage, took.items, took.unit) == ("strip", 50, "paras")
    assert took.seconds >= 0 and took.cpu_seconds is not None and took.cpu_seconds >= 0
    assert any(r.getMessage().startswith("strip: ") and "paras/s" in r.getMessage() for r in caplog.records)


def test_run_logs_every_stage_and_keeps_times_out_of_metrics(
        tmp_path: Path, params: Params, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        results, times = runner.run_all_timed(RAW, tmp_path / "out", params, workers=1)
    assert [t.stage for t in times] == list(runner.STAGES) == list(results)
    assert times[1].items == results["extract"]["documents_in"]
    summary = [r.getMessage() for r in caplog.records if r.getMessage().startswith("time per stage")]
    assert len(summary) == 1
    assert all(f"| {stage} |" in summary[0] for stage in runner.STAGES)
    for path in (tmp_path / "out" / "metrics").glob("*.json"):
        assert "seconds" not in json.dumps(json.loads(path.read_text()))
