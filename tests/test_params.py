"""Params: frozen, validated, and refused when impossible or misspelt."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import ROOT

from pipeline.params import DedupParams, Params, ParamsError, load_params, params_from_mapping


def test_shipped_params_equal_the_defaults() -> None:
    assert load_params(ROOT / "params.yaml") == Params()


def test_params_are_frozen() -> None:
    p = Params()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.dedup.threshold = 0.5  # type: ignore[misc]


@pytest.mark.parametrize("raw, message", [
    ({"dedup": {"threshold": 0}}, "dedup.threshold"),
    ({"dedup": {"num_perm": 4}}, "dedup.num_perm"),
    ({"dedup": {"lsh_bands": 32, "lsh_rows": 8}}, "lsh_bands \\* dedup.lsh_rows"),
    ({"dedup": {"lsh_bands": 16, "lsh_rows": None}}, "set together"),
    ({"dedup": {"shingle_size": 0}}, "dedup.shingle_size"),
    ({"strip": {"guard_max_removed_fraction": 0}}, "guard_max_removed_fraction"),
    ({"ingest": {"max_decompressed_bytes": 0}}, "max_decompressed_bytes"),
    ({"ingest": {"batch_bytes": 0}}, "ingest.batch_bytes"),
    ({"strip": {"batch_rows": 0}}, "strip.batch_rows"),
    ({"strip": {"parallel_min_paragraphs": -1}}, "strip.parallel_min_paragraphs"),
    ({"extract": {"favor_precision": True, "favor_recall": True}}, "mutually exclusive"),
    ({"extract": {"date_max": "tomorrow"}}, "date_max"),
    ({"export": {"compression": "lz5"}}, "export.compression"),
    ({"dedup": {"treshold": 0.8}}, "unknown key"),
    ({"dedupe": {}}, "unknown params section"),
])
def test_impossible_values_are_refused(raw: dict, message: str) -> None:
    with pytest.raises(ParamsError, match=message):
        params_from_mapping(raw)


def test_digest_changes_with_any_value() -> None:
    assert Params().digest() == Params().digest()
    other = dataclasses.replace(Params(), dedup=DedupParams(threshold=0.85))
    assert other.digest() != Params().digest()


def test_unreadable_params_file(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("dedup: [unclosed", encoding="utf-8")
    with pytest.raises(ParamsError, match="cannot read params file"):
        load_params(bad)
