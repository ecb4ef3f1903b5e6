"""`ReadAhead` (work on a thread, a bounded number of items ahead), and strip's mark pass read
ahead with it: the same files as without, and the candidates computed ahead are the ones used."""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import RAW

from pipeline import parquet_io as pio
from pipeline import readahead, runner
from pipeline.params import Params
from pipeline.readahead import ReadAhead
from pipeline.rules import RuleSet
from pipeline.stages import strip


def test_items_and_results_in_order() -> None:
    with ReadAhead(range(10), lambda x: x * x, depth=3) as ahead:
        assert list(ahead) == [(x, x * x) for x in range(10)]


def test_the_thread_works_at_most_depth_ahead() -> None:
    calls: list[int] = []
    with ReadAhead(range(100), calls.append, depth=2) as ahead:
        deadline = time.monotonic() + 10
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # nothing consumed: two results queued, a third computed and waiting
        assert len(calls) == 3
        first = next(iter(ahead))
        assert first == (0, None)
    assert len(calls) <= 4


def test_an_error_is_raised_where_its_item_is_reached() -> None:
    def fn(x: int) -> int:
        if x == 3:
            raise ValueError("bad item 3")
        return x

    got = []
    with ReadAhead(range(6), fn) as ahead, pytest.raises(ValueError, match="bad item 3"):
        for item, _ in ahead:
            got.append(item)
    assert got == [0, 1, 2]


def test_an_error_of_the_iterator_is_raised_too() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise OSError("file vanished")

    with ReadAhead(items(), lambda x: x) as ahead, pytest.raises(OSError, match="file vanished"):
        list(ahead)


def test_leaving_early_stops_the_thread() -> None:
    with ReadAhead(iter(range(10**9)), lambda x: x, depth=2) as ahead:
        for item, _ in ahead:
            if item == 5:
                break
        assert any(t.name == "read-ahead" for t in threading.enumerate())
    assert not any(t.name == "read-ahead" for t in threading.enumerate())
    with pytest.raises(ValueError, match="depth"):
        ReadAhead([], lambda x: x, depth=0)


def _strip_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "stages" / "strip").glob("*.parquet"))}


def test_strip_read_ahead_writes_what_strip_without_it_writes(tmp_path: Path, params: Params,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The mark pass read ahead and not, in this process. Four batches: the thread is ahead of
    the marking."""
    started: list[ReadAhead] = []

    class Counted(ReadAhead):
        def __enter__(self) -> ReadAhead:
            started.append(self)
            return super().__enter__()

    monkeypatch.setattr(readahead, "ReadAhead", Counted)
    small = dataclasses.replace(params, ingest=dataclasses.replace(params.ingest, batch_size=2),
                                strip=dataclasses.replace(params.strip, batch_rows=1))
    base = tmp_path / "base"
    runner.run_ingest(RAW, base, small)
    runner.run_extract(base, small)
    assert pq.ParquetFile(base / "stages" / "extract" / "paragraphs.parquet").num_row_groups >= 4
    found = {}
    for ahead in (True, False):
        out = tmp_path / f"ahead_{ahead}"
        for stage in ("ingest", "extract"):
            shutil.copytree(base / "stages" / stage, out / "stages" / stage)
        counters = runner.run_strip(out, small, 1, read_ahead=ahead)
        found[ahead] = (_strip_files(out), counters)
        assert len(started) == 1  # the first run only
    assert found[True] == found[False]
    assert found[True][1]["removed"] > 0 and found[True][0]


def test_strip_uses_the_candidates_given(sample_out: Path, params: Params, rules: RuleSet) -> None:
    """`batch_gates` are what strip computes itself; flags given as all false leave every line
    rule unmatched (so the mark pass reads them rather than computing its own)."""
    paragraphs = pio.read_table(sample_out / "stages" / "extract" / "paragraphs.parquet")
    docs = pio.read_table(sample_out / "stages" / "extract" / "documents.parquet",
                          columns=["doc_id", "hostname", "source_path", "source_format", "title"])
    matchers: dict = {}
    gates = strip.batch_gates(paragraphs, docs, rules, matchers)
    assert gates and all(len(flags) == paragraphs.num_rows for flags in gates.values())
    for matcher, flags in gates.items():
        assert np.array_equal(flags, matcher.candidates(paragraphs.column("text")))
    alone = strip.run(paragraphs, docs, rules, params.strip)
    ahead = strip.run(paragraphs, docs, rules, params.strip, None, matchers, gates)
    assert ahead.tables["paragraphs"].equals(alone.tables["paragraphs"])
    line_ids = {r.id for r in rules.line_rules}
    assert line_ids & set(alone.removed.column("rule_id").to_pylist())
    blind = {matcher: np.zeros_like(flags) for matcher, flags in gates.items()}
    none = strip.run(paragraphs, docs, rules, params.strip, None, matchers, blind)
    assert not line_ids & set(none.removed.column("rule_id").to_pylist())
