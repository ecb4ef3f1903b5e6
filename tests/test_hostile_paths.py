"""Paths: odd file names, symlinks out of the raw folder, unreadable and special files, and
output that stays inside the output folder."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from pipeline import runner
from pipeline.export_errors import UnsafePathError
from pipeline.params import IngestParams, Params

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symlinks, FIFOs and newlines in names")
ARTICLE = ("A headline about the {0} case\n\n"
           "The council met on Tuesday to discuss the {0} question at length.\n")


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame, pd.DataFrame]:
    base = tmp_path_factory.mktemp("paths")
    raw, out, outside = base / "raw", base / "out", base / "outside"
    raw.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text(ARTICLE.format("secret"), encoding="utf-8")
    names = ["with space.txt", "ünïcödé 字.txt", "new\nline.txt", "-dash.txt", "..dots.txt",
             "quote'\"$(x).txt", "tab\there.txt"]
    for i, name in enumerate(names):
        (raw / name).write_text(ARTICLE.format(f"case{i}"), encoding="utf-8")
    (raw / "sub").mkdir()
    (raw / "sub" / "inner.txt").write_text(ARTICLE.format("inner"), encoding="utf-8")
    (raw / "out_link.txt").symlink_to(outside / "secret.txt")
    (raw / "dir_link").symlink_to(outside, target_is_directory=True)
    (raw / "in_link.txt").symlink_to(raw / "sub" / "inner.txt")
    (raw / "dangling.txt").symlink_to(raw / "no_such_file.txt")
    os.mkfifo(raw / "pipe.txt")  # reading it would block forever
    (raw / "big.txt").write_text("x" * 5000, encoding="utf-8")
    before = _tree(base)
    runner.run_all(raw, out, Params(ingest=IngestParams(max_file_bytes=4000)))
    created = _tree(base) - before
    assert all(p.startswith("out/") or p == "out" for p in created), created
    return raw, out, pd.read_parquet(out / "articles.parquet"), pd.read_parquet(out / "rejects.parquet")


def test_odd_names_are_read_and_keep_their_names(hostile_run) -> None:
    _, _, arts, _ = hostile_run
    assert {"with space.txt", "ünïcödé 字.txt", "new\nline.txt", "-dash.txt", "..dots.txt",
            "quote'\"$(x).txt", "tab\there.txt"} <= set(arts.source_path)
    assert "new\nline" in set(arts.doc_id)


def test_refused_and_unreadable_paths_are_rejects_with_reasons(hostile_run) -> None:
    _, _, arts, rejects = hostile_run
    got = dict(zip(rejects.source_path, rejects.reason_code, strict=True))
    assert got["out_link.txt"] == "symlink_outside_raw"
    assert got["dir_link"] == "symlink_directory"
    assert got["dangling.txt"] == "unreadable"
    assert got["pipe.txt"] == "not_a_regular_file"
    assert got["big.txt"] == "too_large"
    assert "secret" not in " ".join(arts.text)
    assert len(arts) + len(rejects) == 14


def test_a_symlink_inside_the_raw_folder_is_read(hostile_run) -> None:
    _, _, arts, rejects = hostile_run
    assert "in_link.txt" in set(arts.source_path)
    # ... so the file it points to is a copy of it, and says so.
    assert rejects.set_index("source_path").loc["sub/inner.txt", "reason_code"] == "all_paragraphs_removed"


def test_output_folder_inside_raw_folder_is_refused(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text(ARTICLE.format("a"), encoding="utf-8")
    with pytest.raises(UnsafePathError, match="inside the raw folder"):
        runner.run_all(raw, raw / "clean", Params())
    assert _tree(raw) == {"a.txt"}
