"""trafilatura's warnings about a page's markup ("empty link") are shown with -v only, in this
process and in pool workers alike (`pipeline.logsetup`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

# An article whose links hold only spaces: trafilatura warns "empty link" for each (links are
# kept to measure link density).
PAGE = ("<html><head><title>Council meets</title></head><body><article><h1>Council meets</h1>"
        + "".join(f"<p>Paragraph {i} of a story about the city council, which met on Tuesday to "
                  f"discuss the budget <a href='https://example.com/story/{i}'>   </a> and the "
                  f"new library, among other matters raised by residents.</p>" for i in range(8))
        + "</article></body></html>")


def _stderr(tmp_path: Path, flag: str, workers: int) -> str:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    for i in range(4):
        (raw / f"page_{i}.html").write_text(PAGE.replace("Council", f"Council {i}"), encoding="utf-8")
    params = tmp_path / "params.yaml"
    params.write_text("extract:\n  batch_size: 1\n", encoding="utf-8")  # 4 slices: the pool runs
    res = subprocess.run([sys.executable, "-m", "pipeline", flag, "run", str(raw), "--out",
                          str(tmp_path / f"out{flag}{workers}"), "--params", str(params),
                          "--workers", str(workers)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    return res.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_markup_warnings_only_with_verbose(tmp_path: Path, workers: int) -> None:
    assert "WARNING trafilatura.xml: empty link" in _stderr(tmp_path, "-v", workers)
    assert "trafilatura" not in _stderr(tmp_path, "-q", workers)
