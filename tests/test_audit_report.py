"""`pipeline report`: counts that agree with the tables, escaped text, no external asset, the DVC CSV."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from pipeline.audit.load import load_run
from pipeline.audit.report import stage_totals
from pipeline.audit.report_html import build_report
from pipeline.cli import main

HOSTILE = '</script><script>alert(1)</script><img src=x onerror="alert(2)">'


def stage_cells(page: str, stage: str) -> dict[str, int]:
    row = re.search(rf'<tr id="stage-{stage}">(.*?)</tr>', page, re.S).group(1)
    return {k: int(v.replace(",", "")) for k, v in re.findall(r'data-k="(\w+)">([\d,]+)<', row)}


def rule_cells(page: str) -> dict[str, int]:
    rows = re.findall(r'<tr id="rule-([\w.-]+)">.*?data-k="removed">([\d,]+)<', page, re.S)
    return {rule: int(n.replace(",", "")) for rule, n in rows}


@pytest.fixture(scope="module")
def report_files(sample_out: Path) -> tuple[str, str]:
    assert main(["report", "--out", str(sample_out)]) == 0
    return ((sample_out / "report.html").read_text(encoding="utf-8"),
            (sample_out / "plots" / "removals_by_rule.csv").read_text(encoding="utf-8"))


def test_stage_totals_match_the_tables(report_files, sample_paragraphs, sample_articles) -> None:
    page, _ = report_files
    removed = sample_paragraphs[sample_paragraphs.status == "removed"]
    n_strip, n_dedup = (removed.stage == "strip").sum(), (removed.stage == "dedup").sum()
    n = len(sample_paragraphs)
    assert stage_cells(page, "strip") == {"in": n, "kept": n - n_strip, "removed": n_strip}
    assert stage_cells(page, "dedup") == {"in": n - n_strip, "kept": n - n_strip - n_dedup,
                                          "removed": n_dedup}
    assert stage_cells(page, "ingest") == {"in": 8, "kept": 8, "removed": 0}
    assert stage_cells(page, "export")["kept"] == len(sample_articles)
    assert rule_cells(page) == removed.rule_id.value_counts().to_dict()


def test_the_sample_run_has_its_known_figures(report_files) -> None:
    page, _ = report_files
    assert stage_cells(page, "strip") == {"in": 167, "kept": 135, "removed": 32}
    assert rule_cells(page)["akismet_notice_v1"] == 1


def test_frequent_texts_clusters_and_documents(report_files, sample_paragraphs) -> None:
    page, _ = report_files
    assert '<h3 id="texts-akismet_notice_v1">' in page
    assert "This site uses Akismet to reduce spam." in page
    assert '<tr id="cluster-0">' in page and "002_60805fbeb22a933d:0</a> (survivor)" in page
    assert page.count('<section class="doc"') == sample_paragraphs.doc_id.nunique()
    assert page.count('<div class="p removed"') == (sample_paragraphs.status == "removed").sum()
    assert page.count("<del>") == (sample_paragraphs.status == "removed").sum()
    assert "contained in 002_60805fbeb22a933d:9 (containment 1.000), kept" in page


def test_report_is_self_contained(report_files) -> None:
    page, _ = report_files
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r'\b(?:src|href|action)\s*=\s*"(?!#)', page), "only in-page links"
    assert not re.search(r"<link|@import|url\(", page)


def test_the_dvc_plot_csv(report_files, sample_paragraphs) -> None:
    _, csv = report_files
    table = pd.read_csv(io.StringIO(csv))
    assert list(table.columns) == ["stage", "rule_id", "removed"]
    removed = sample_paragraphs[sample_paragraphs.status == "removed"]
    assert dict(zip(table.rule_id, table.removed, strict=True)) == removed.rule_id.value_counts().to_dict()
    assert list(table.stage) == sorted(table.stage, key=["strip", "dedup"].index)


def test_hostile_text_is_escaped(sample_out) -> None:
    run = load_run(sample_out)
    paras = run.paragraphs.copy()
    paras.loc[paras.status == "removed", "text"] = HOSTILE
    paras.loc[paras.index[0], "text"] = '"><b onmouseover=alert(3)>x'
    arts = run.articles.copy()
    arts.loc[0, "title"] = "<iframe src='http://evil.example'></iframe>"
    page = build_report(replace(run, paragraphs=paras, articles=arts))
    for raw in ("<script>alert", "<img", "<b onmouseover", "<iframe"):
        assert raw not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<script>") == 1  # the page's own filter
    assert len(stage_totals(run)) == 5


def test_report_is_deterministic_and_needs_a_run(sample_out, tmp_path, report_files, caplog) -> None:
    assert main(["report", "--out", str(sample_out)]) == 0
    assert (sample_out / "report.html").read_text(encoding="utf-8") == report_files[0]
    assert main(["report", "--out", str(tmp_path)]) == 2
    assert "articles.parquet is missing" in caplog.text
    assert not (tmp_path / "report.html").exists()


def test_dvc_plots_show_writes_the_rule_plot(tmp_path) -> None:
    """The committed CSV is declared as a DVC plot: `dvc plots show` renders it to HTML."""
    import subprocess
    import sys

    from conftest import ROOT

    csv = pd.read_csv(ROOT / "clean" / "plots" / "removals_by_rule.csv")
    res = subprocess.run([sys.executable, "-m", "dvc", "plots", "show", "-o", str(tmp_path / "plots")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "plots" / "index.html").read_text(encoding="utf-8")
    assert "clean_plots_removals_by_rule_csv" in page
    for rule in csv.rule_id:
        assert f'"rule_id": "{rule}"' in page
