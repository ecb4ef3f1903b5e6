"""`pipeline show`: the clean text with its provenance and counts per stage, and its error cases."""

from __future__ import annotations

import pytest

from pipeline.cli import main

DOC_002 = "002_60805fbeb22a933d"


def _show(capsys: pytest.CaptureFixture, out, doc_id: str) -> tuple[int, str]:
    code = main(["show", doc_id, "--out", str(out)])
    return code, capsys.readouterr().out


def test_show_prints_provenance_counts_and_clean_text(sample_out, sample_articles, capsys) -> None:
    code, out = _show(capsys, sample_out, DOC_002)
    assert code == 0
    art = sample_articles.set_index("doc_id").loc[DOC_002]
    fields = dict(line.split(None, 1) for line in out.split("\n\n")[0].splitlines())
    assert fields["doc_id"] == DOC_002
    assert fields["source_path"] == art.source_path == f"{DOC_002}.txt"
    assert fields["source_sha256"] == art.source_sha256
    assert fields["title"] == art.title
    assert fields["url"] == "-"  # a plain-text file has no URL
    assert fields["params_hash"] == art.params_hash
    assert "  extract  20 paragraphs" in out
    assert ("  strip    20 in, 9 removed, 11 kept (related_list_header_v1 4, related_inline_link_v1 2, "
            "featured_image_credit_v1 1, language_also_available_v1 1, like_prompt_v1 1)") in out
    assert "  dedup    11 in, 1 removed, 10 kept (exact_duplicate_v1 1)" in out
    assert "  export   article, 10 paragraphs" in out
    text = out.split("clean text (", 1)[1].split("\n", 2)[2]
    assert text.strip() == art.text.strip()


def test_show_of_an_html_page_has_its_url(sample_out, sample_articles, capsys) -> None:
    doc = "sh_42aad16bde928862"
    code, out = _show(capsys, sample_out, doc)
    url = sample_articles.set_index("doc_id").loc[doc, "url"]
    assert code == 0 and url and f"\nurl               {url}\n" in out


def test_show_of_a_rejected_document_and_unknown_ids(tmp_path, sample_out, capsys, caplog) -> None:
    from pipeline import runner
    from pipeline.params import Params

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "empty.txt").write_bytes(b"")
    (raw / "ok.txt").write_text("A headline for a page\n\nA paragraph of real text here.\n", encoding="utf-8")
    runner.run_all(raw, tmp_path / "out", Params())
    code, out = _show(capsys, tmp_path / "out", "empty")
    assert code == 0
    assert "export   rejected" in out and "rejected at ingest: empty_file" in out
    assert "clean text" not in out
    code, out = _show(capsys, sample_out, "002_6080")
    assert code == 2 and out == "" and f"did you mean: {DOC_002}?" in caplog.text
    assert main(["show", DOC_002, "--out", str(tmp_path / "nowhere")]) == 2
    assert "is missing" in caplog.text


def test_the_command_line_module_stays_light() -> None:
    """`pipeline --help` must not pay for pandas or pyarrow: audit commands import them lazily."""
    import subprocess
    import sys

    code = ("import sys, pipeline.cli; pipeline.cli.build_parser(); "
            "print(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert res.stdout.strip() == "[]"
