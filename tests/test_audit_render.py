"""The report renders in headless Chromium with the run's real counts, and its filter works.

Skipped only where Chromium is absent (`make test` installs the Debian package where it can).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from pipeline.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (Debian package `chromium`; `make test` installs it "
                             "where apt-get works): headless render test of report.html skipped")
WINDOW = (1280, 1600)
SECTION = re.compile(r'<section class="doc" id="d\d+" data-doc="([^"]+)"( hidden="")?>')


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", f"--user-data-dir={profile}", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


@pytest.fixture(scope="module")
def report_url(sample_out: Path) -> str:
    assert main(["report", "--out", str(sample_out)]) == 0
    return (sample_out / "report.html").resolve().as_uri()


def _stage(dom: str, stage: str) -> dict[str, int]:
    row = re.search(rf'<tr id="stage-{stage}">(.*?)</tr>', dom, re.S).group(1)
    return {k: int(v.replace(",", "")) for k, v in re.findall(r'data-k="(\w+)">([\d,]+)<', row)}


def test_rendered_page_shows_the_runs_counts(report_url, tmp_path, sample_paragraphs,
                                             sample_articles) -> None:
    res = chromium(tmp_path, report_url, "--dump-dom")
    assert res.returncode == 0, res.stderr[-2000:]
    dom = res.stdout
    removed = sample_paragraphs[sample_paragraphs.status == "removed"]
    n, n_strip = len(sample_paragraphs), int((removed.stage == "strip").sum())
    n_dedup = int((removed.stage == "dedup").sum())
    assert _stage(dom, "strip") == {"in": n, "kept": n - n_strip, "removed": n_strip}
    assert _stage(dom, "dedup") == {"in": n - n_strip, "kept": n - n_strip - n_dedup, "removed": n_dedup}
    assert _stage(dom, "export")["kept"] == len(sample_articles)
    for rule, count in removed.rule_id.value_counts().items():
        assert re.search(rf'<tr id="rule-{rule}">.*?data-k="removed">{count}<', dom, re.S), rule
    # The script ran: every document shown, none hidden.
    assert f'<span id="shown">{sample_paragraphs.doc_id.nunique()}</span>' in dom
    assert all(hidden == "" for _, hidden in SECTION.findall(dom))


def test_filter_by_text_and_by_id(report_url, tmp_path) -> None:
    for query, expected in (("akismet", ["000_005e995acf7c9fe1"]), ("sh_42aad", ["sh_42aad16bde928862"]),
                            ("no such text anywhere", [])):
        dom = chromium(tmp_path, f"{report_url}#q={query.replace(' ', '+')}", "--dump-dom").stdout
        visible = [doc for doc, hidden in SECTION.findall(dom) if not hidden]
        assert visible == expected, query
        assert f'<span id="shown">{len(expected)}</span>' in dom


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_screenshot(report_url, tmp_path) -> None:
    shot, blank = tmp_path / "report.png", tmp_path / "blank.png"
    (tmp_path / "blank.html").write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    size = f"--window-size={WINDOW[0]},{WINDOW[1]}"
    res = chromium(tmp_path, report_url, f"--screenshot={shot}", size)
    assert res.returncode == 0, res.stderr[-2000:]
    chromium(tmp_path, (tmp_path / "blank.html").as_uri(), f"--screenshot={blank}", size)
    assert _png_size(shot) == WINDOW
    # A page of tables and bars compresses far worse than an empty one (measured: ~275 KB vs ~9 KB).
    assert shot.stat().st_size > 5 * blank.stat().st_size
