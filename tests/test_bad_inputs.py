"""Bad inputs become rejects with a clear reason, and the good files beside them still come out."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import RAW
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import runner
from pipeline.params import IngestParams, Params

GOOD = "000_005e995acf7c9fe1.txt"
HTML = "sh_14cc2a0ca59c62a8.html"


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = tmp_path_factory.mktemp("raw")
    shutil.copy(RAW / GOOD, raw / GOOD)
    (raw / "page.html.gz").write_bytes(gzip.compress((RAW / HTML).read_bytes()))
    (raw / "empty.txt").write_bytes(b"")
    (raw / "blank.txt").write_bytes(b"  \n\n \t\n")
    (raw / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (raw / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    latin = "Café crème à la française\n\nNaïve façade, déjà vu.\n"
    (raw / "latin1.txt").write_bytes(latin.encode("latin-1"))
    (raw / "truncated.txt.gz").write_bytes(gzip.compress(b"hello world\n" * 500)[:60])
    (raw / "nobody.html").write_bytes(b"<html><head><title>Nothing here</title></head></html>")
    (raw / "notes.pdf").write_bytes(b"%PDF-1.4 not a page")
    (raw / "utf16.txt").write_bytes("Über die Brücke\n\nEin zweiter Absatz.\n".encode("utf-16"))
    (raw / "sub dir").mkdir()
    (raw / "sub dir" / "ünïcode name.txt").write_text("A headline in a folder\n\nThe body of it.\n",
                                                      encoding="utf-8")
    out = tmp_path_factory.mktemp("out")
    runner.run_all(raw, out, Params())
    return pd.read_parquet(out / "articles.parquet"), pd.read_parquet(out / "rejects.parquet")


EXPECTED_REJECTS = {
    "empty.txt": "empty_file",
    "blank.txt": "empty_file",
    "binary.txt": "binary_content",
    "image.html": "binary_content",
    "truncated.txt.gz": "gzip_truncated",
    "nobody.html": "no_text_extracted",
    "notes.pdf": "unsupported_format",
}


def test_each_bad_file_is_a_reject_with_its_reason(bad_run) -> None:
    _, rejects = bad_run
    got = dict(zip(rejects.source_path, rejects.reason_code, strict=True))
    assert got == EXPECTED_REJECTS
    for r in rejects.itertuples():
        assert r.reason.startswith(r.reason_code + ": ") and len(r.reason) > len(r.reason_code) + 10


def test_good_files_still_come_out(bad_run) -> None:
    articles, rejects = bad_run
    assert set(articles.source_path) == {GOOD, "page.html.gz", "latin1.txt", "utf16.txt",
                                         "sub dir/ünïcode name.txt"}
    assert len(articles) + len(rejects) == 12


def test_encodings_are_detected_and_recorded(bad_run) -> None:
    arts = bad_run[0].set_index("source_path")
    assert arts.loc["latin1.txt", "encoding"] == "cp1252"
    assert arts.loc["latin1.txt", "text"].startswith("Café crème à la française")
    assert arts.loc["utf16.txt", "encoding"] == "utf-16"
    assert "Über die Brücke" in arts.loc["utf16.txt", "text"]
    assert arts.loc["page.html.gz", "compression"] == "gzip"
    assert arts.loc["page.html.gz", "source_format"] == "html"
    assert arts.loc["page.html.gz", "doc_id"] == "page"
    assert arts.loc["sub dir/ünïcode name.txt", "doc_id"] == "sub dir/ünïcode name"


def test_gzip_bomb_is_capped(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "bomb.txt.gz").write_bytes(gzip.compress(b"a" * 5_000_000))
    (raw / "ok.txt").write_text("A short headline here\n\nBody text.\n", encoding="utf-8")
    params = Params(ingest=IngestParams(max_decompressed_bytes=1_000_000))
    runner.run_all(raw, tmp_path / "out", params)
    rejects = pd.read_parquet(tmp_path / "out" / "rejects.parquet")
    assert list(rejects.reason_code) == ["gzip_too_large"]


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_symlink_outside_raw_is_not_followed(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("Secret headline outside\n\nDo not read me.\n", encoding="utf-8")
    (raw / "link.txt").symlink_to(secret)
    (raw / "ok.txt").write_text("A short headline here\n\nBody text.\n", encoding="utf-8")
    runner.run_all(raw, tmp_path / "out", Params())
    rejects = pd.read_parquet(tmp_path / "out" / "rejects.parquet")
    assert list(rejects.reason_code) == ["symlink_outside_raw"]
    assert "Do not read me" not in pd.read_parquet(tmp_path / "out" / "paragraphs.parquet").text.str.cat()


def test_identical_file_becomes_a_reject_not_a_silent_drop(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(RAW / GOOD, raw / "a.txt")
    shutil.copy(RAW / GOOD, raw / "b.txt")
    runner.run_all(raw, tmp_path / "out", Params())
    rejects = pd.read_parquet(tmp_path / "out" / "rejects.parquet")
    assert list(rejects.source_path) == ["b.txt"]
    assert rejects.reason_code.iloc[0] == "all_paragraphs_removed"
    paras = pd.read_parquet(tmp_path / "out" / "paragraphs.parquet")
    b = paras[paras.doc_id == "b"]
    assert (b.status == "removed").all() and b.reason.notna().all()


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=200), st.sampled_from(["utf-8", "UTF8", "utf-8-sig"]))
def test_control_ratio_counted_in_bytes_is_the_same(text: str, encoding: str) -> None:
    """UTF-8 text's control characters are counted in its bytes: the same ratio as in the text."""
    from pipeline import decode

    data = text.encode(encoding)
    assert decode.control_ratio(data.decode(encoding), data, encoding) == decode.control_ratio(text)
    # Not byte-exact (two bytes a character): counted in the text. (Latin-1 could not tell: one
    # byte a character, the control characters their own bytes.)
    wide = text.encode("utf-16-le")
    assert decode.control_ratio(text, wide, "utf-16-le") == decode.control_ratio(text)
