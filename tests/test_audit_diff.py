"""`pipeline diff`: labelled per-stage diffs on the sample corpus, colours, and its error cases."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import RAW

from pipeline import runner
from pipeline.audit.diff import paragraph_diff, render
from pipeline.cli import main
from pipeline.params import Params

ANSI = re.compile(r"\x1b\[[0-9;]*m")
DOC_000, DOC_002 = "000_005e995acf7c9fe1", "002_60805fbeb22a933d"


def _diff(capsys: pytest.CaptureFixture, out: Path, *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args, "--out", str(out), "--raw", str(RAW)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _removed_with_labels(text: str) -> list[tuple[str, str]]:
    lines = text.splitlines()
    return [(line[1:], lines[i + 1]) for i, line in enumerate(lines) if line.startswith("-")
            and not line.startswith("---")]


def test_strip_diff_labels_the_comment_section_and_the_akismet_notice(sample_out, capsys) -> None:
    code, out, _ = _diff(capsys, sample_out, DOC_000, "--stage", "strip")
    assert code == 0
    removed = _removed_with_labels(out)
    assert removed[0][0].startswith("1 thought on “Russian Diplomat")
    assert removed[-1][0].startswith("This site uses Akismet to reduce spam.")
    assert "rule akismet_notice_v1" in removed[-1][1]
    assert all("rule comment_section_header_v1" in label for _, label in removed[:-1])
    assert all(label.startswith("#   ^ paragraph ") and "removed by strip" in label for _, label in removed)
    assert "=== strip: 13 paragraphs in, 9 kept, 4 removed" in out
    assert "@@ -7,7 +7,3 @@" in out
    assert not ANSI.search(out), "plain text when stdout is not a terminal"


def test_dedup_diff_shows_the_repeated_headline_as_a_copy_of_paragraph_0(sample_out, capsys) -> None:
    code, out, _ = _diff(capsys, sample_out, DOC_002, "--stage", "dedup")
    assert code == 0
    (text, label), = _removed_with_labels(out)
    assert text.startswith("Russia Isn’t Happy About Canada Secretly Helping LGBTQ Refugees")
    assert f"dup_of {DOC_002}:0" in label and "similarity 1.000" in label
    assert "rule exact_duplicate_v1" in label and "removed by dedup" in label
    # The surviving copy is the context line just above.
    lines = out.splitlines()
    assert lines[lines.index("-" + text) - 1] == " " + text


def test_all_walks_the_stages_in_order(sample_out, capsys) -> None:
    code, out, _ = _diff(capsys, sample_out, DOC_002)
    assert code == 0
    titles = [line.split(":")[0] for line in out.splitlines() if line.startswith("=== ")]
    assert titles == ["=== ingest", "=== extract", "=== strip", "=== dedup", "=== export"]
    assert "(decoded content identical to the raw bytes read as UTF-8)" in out
    assert "=== export: article with 10 of 20 paragraphs" in out


def test_colour_on_request_and_never_without(sample_out, capsys) -> None:
    _, coloured, _ = _diff(capsys, sample_out, DOC_000, "--stage", "strip", "--color", "always")
    assert "\x1b[31m-This site uses Akismet" in coloured
    assert "\x1b[33m#   ^ paragraph 12" in coloured
    _, plain, _ = _diff(capsys, sample_out, DOC_000, "--stage", "strip", "--color", "never")
    assert ANSI.sub("", coloured) == plain


def test_html_extract_diff_lists_paragraphs_not_markup(sample_out, capsys) -> None:
    _, out, _ = _diff(capsys, sample_out, "sh_42aad16bde928862", "--stage", "extract")
    assert "lines of HTML markup not shown" in out
    assert not any(line.startswith("-<") for line in out.splitlines())
    assert sum(line.startswith("+") and not line.startswith("+++") for line in out.splitlines()) == 16


def test_unknown_doc_id_lists_near_matches_and_exits_2(sample_out) -> None:
    res = subprocess.run([sys.executable, "-m", "pipeline", "diff", "002_60805fbeb22a933e",
                          "--out", str(sample_out)], capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.strip() == (f"ERROR pipeline: no document '002_60805fbeb22a933e' in {sample_out} "
                                  f"(8 documents); did you mean: {DOC_002}?")


def test_near_matches_by_prefix_and_none(sample_out, capsys, caplog) -> None:
    code, out, _ = _diff(capsys, sample_out, "002")
    assert code == 2 and out == "" and f"did you mean: {DOC_002}?" in caplog.text
    caplog.clear()
    code, _, _ = _diff(capsys, sample_out, "zzzz")
    assert code == 2 and "did you mean" not in caplog.text and "(8 documents)" in caplog.text


def test_missing_run_and_bad_arguments(tmp_path, sample_out, capsys, caplog) -> None:
    code, _, _ = _diff(capsys, tmp_path, DOC_000)
    assert code == 2 and "documents.parquet is missing" in caplog.text
    for bad in (["--stage", "export"], ["--context", "-1"], ["--color", "sometimes"]):
        with pytest.raises(SystemExit) as exc:
            main(["diff", DOC_000, "--out", str(sample_out), *bad])
        assert exc.value.code == 2
    capsys.readouterr()


def test_hunks_and_escapes_on_a_small_table() -> None:
    texts = ["a", "b", "c\x1b[2J", "d", "e", "f", "g", "h"]
    before = pd.DataFrame({"para_idx": range(8), "text": texts, "status": "kept"})
    gone = {2: ("r1", "why\nnot"), 7: ("r2", "because")}
    after = before.assign(status=["removed" if i in gone else "kept" for i in range(8)],
                          stage=["strip" if i in gone else None for i in range(8)],
                          rule_id=[gone[i][0] if i in gone else None for i in range(8)],
                          reason=[gone[i][1] if i in gone else None for i in range(8)])
    text = render(paragraph_diff(before, after, "strip", context=1), colour=False)
    assert text.splitlines() == [
        "@@ -2,3 +2,2 @@", " b", "-c\\x1b[2J",
        "#   ^ paragraph 2: removed by strip | rule r1 | reason: why\\nnot", " d",
        "@@ -7,2 +6,1 @@", " g", "-h", "#   ^ paragraph 7: removed by strip | rule r2 | reason: because"]
    # Contexts that touch make one hunk, as in GNU diff.
    merged = render(paragraph_diff(before, after, "strip", context=2), colour=False)
    assert merged.splitlines()[0] == "@@ -1,8 +1,6 @@"


@pytest.fixture(scope="module")
def odd_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A cp1252 file (decoding changes its text) and an empty file (a reject)."""
    raw = tmp_path_factory.mktemp("raw")
    text = "A headline about the café\n\nThe crème brûlée was good.\n"
    (raw / "cafe.txt").write_bytes(text.encode("cp1252"))
    (raw / "empty.txt").write_bytes(b"")
    out = tmp_path_factory.mktemp("out")
    runner.run_all(raw, out, Params())
    return raw, out


def test_ingest_diff_shows_what_decoding_changed(odd_run, capsys) -> None:
    raw, out = odd_run
    assert main(["diff", "cafe", "--stage", "ingest", "--out", str(out), "--raw", str(raw)]) == 0
    text = capsys.readouterr().out
    assert "decoded as cp1252" in text
    assert "-A headline about the caf\ufffd" in text and "+A headline about the café" in text
    assert main(["diff", "cafe", "--stage", "ingest", "--out", str(out), "--raw", str(out)]) == 0
    assert "(raw bytes not compared: raw file" in capsys.readouterr().out


def test_a_rejected_document_says_where_and_why(odd_run, capsys) -> None:
    raw, out = odd_run
    assert main(["diff", "empty", "--out", str(out), "--raw", str(raw)]) == 0
    text = capsys.readouterr().out
    assert "rejected at ingest: empty_file" in text
    assert "=== extract\n(not ingested)" in text
