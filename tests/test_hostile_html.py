"""Hostile pages: deep nesting, huge lines, all script, lying charsets, entity bombs, gzip bombs,
and pages that take too long; each becomes an article or a reject, and the run goes on."""

from __future__ import annotations

import gzip
import os
import socket
import time
import tracemalloc
import zlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from pipeline import decode, runner, schema
from pipeline.params import ExtractParams, IngestParams, Params
from pipeline.stages import extract, ingest

BODY = "<p>" + "The council voted on Tuesday to extend the bus programme for another year. " * 4 + "</p>"


def _page(inner: str, head: str = "") -> str:
    return f"<html><head>{head}<title>T</title></head><body><article>{inner}</article></body></html>"


def _docs(*contents: str, fmt: str = "html") -> pa.Table:
    rows = [{"doc_id": f"d{i}", "source_path": f"d{i}.html", "source_sha256": "0", "source_bytes": 0,
             "source_format": fmt, "compression": None, "encoding": "utf-8", "url": None, "content": c}
            for i, c in enumerate(contents)]
    return pa.Table.from_pylist(rows, schema=schema.DOCUMENTS_RAW)


def _fates(res) -> dict[str, str]:
    fates = {d: "article" for d in res.tables["documents"].column("doc_id").to_pylist()}
    fates.update(zip(res.tables["rejects"].column("doc_id").to_pylist(),
                     res.tables["rejects"].column("reason_code").to_pylist(), strict=True))
    return fates


def test_deep_nesting_long_lines_and_script_pages_each_get_a_fate() -> None:
    deep = _page("<div>" * 5_000 + BODY + "</div>" * 5_000)
    spans = _page("<p>" + "<span><b>" * 20_000 + "word " + "</b></span>" * 20_000 + "</p>")
    unclosed = _page("<p><b><i>text " * 3_000)
    long_line = _page("<p>" + "word " * 200_000 + "</p>")  # 1 MB on one line
    script = "<html><body>" + "<script>var a = 1;</script>" * 20_000 + "</body></html>"
    res = extract.run(_docs(deep, spans, unclosed, long_line, script, _page(BODY)), ExtractParams())
    fates = _fates(res)
    assert len(fates) == 6 and fates["d5"] == "article" and fates["d3"] == "article"
    assert fates["d4"] == "no_text_extracted"
    assert set(fates.values()) <= {"article", "no_text_extracted"}


def test_entity_bomb_is_not_expanded_and_nothing_is_fetched() -> None:
    with socket.socket() as server:  # an entity pointing here must never connect
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        port = server.getsockname()[1]
        laughs = "".join(f'<!ENTITY l{i} "' + f"&l{i - 1};" * 10 + '">' for i in range(1, 10))
        bomb = (f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY l0 "lol">{laughs}'
                f'<!ENTITY net SYSTEM "http://127.0.0.1:{port}/x"><!ENTITY file SYSTEM "file:///etc/passwd">]>'
                f'<html xmlns="http://www.w3.org/1999/xhtml"><body><article><p>&l9; &net; &file;</p>'
                f"{BODY}</article></body></html>")
        tracemalloc.start()
        res = extract.run(_docs(bomb), ExtractParams(timeout_seconds=0))  # in process: memory is ours
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        with pytest.raises(BlockingIOError):
            server.accept()
    text = res.tables["documents"].column("extracted_text")[0].as_py()
    assert "lollol" not in text and "root:" not in text
    assert len(text) < 2_000 and peak < 50_000_000  # 10^9 "lol"s would be 3 GB


@pytest.mark.parametrize("head, body, expected", [
    ('<meta charset="x-no-such-charset">', "Caf\xe9 cr\xe8me au march\xe9", "cp1252"),
    ('<meta charset="utf-8">', "Caf\xe9 cr\xe8me au march\xe9", "cp1252"),  # declared UTF-8, is not
    ('<meta charset="utf-32">', "plain ascii page text", "utf-8"),
])
def test_a_false_charset_declaration_falls_back_to_detection(head: str, body: str, expected: str) -> None:
    data = _page(f"<p>{body}. " * 5 + "</p>", head).encode("latin-1")
    dec = ingest.decode_bytes(data, "html", False, IngestParams())
    assert dec.encoding == expected and body in dec.content


def test_an_xml_declaration_naming_a_wide_charset_does_not_garble_the_page() -> None:
    data = ('<?xml version="1.0" encoding="UTF-16"?>' + _page(BODY)).encode("utf-8")
    dec = ingest.decode_bytes(data, "html", False, IngestParams())
    assert dec.encoding == "utf-8" and "council voted" in dec.content


def test_gzip_bomb_is_refused_before_memory_grows() -> None:
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = b"".join(bomb.compress(b"\0" * 1_000_000) for _ in range(200)) + bomb.flush()  # 200 MB
    assert len(data) < 300_000
    tracemalloc.start()
    with pytest.raises(decode.DecodeError) as err:
        decode.gunzip_capped(data, 1_000_000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert err.value.code == "gzip_too_large" and "max_decompressed_bytes=1000000" in str(err.value)
    assert peak < 5_000_000


def test_many_small_gzip_members_still_hit_the_cap() -> None:
    member = gzip.compress(b"a" * 100_000, mtime=0)
    with pytest.raises(decode.DecodeError, match="max_decompressed_bytes"):
        decode.gunzip_capped(member * 50, 1_000_000)
    assert decode.gunzip_capped(member * 5, 1_000_000) == b"a" * 500_000


def _slow_on_marker(html: str, params: ExtractParams) -> extract.Extracted | None:
    if "SLOW" in html:
        time.sleep(60)
    if "CRASH" in html:
        os._exit(3)  # like a segfault in C code: the worker vanishes
    return extract.extract_html(html, params)


def test_a_page_over_the_time_limit_is_a_reject_and_the_run_goes_on() -> None:
    docs = _docs(_page(BODY), _page("SLOW" + BODY), _page(BODY.replace("bus", "tram")))
    start = time.monotonic()
    res = extract.run(docs, ExtractParams(timeout_seconds=1), html_extractor=_slow_on_marker)
    assert time.monotonic() - start < 20
    assert _fates(res) == {"d0": "article", "d1": "extract_timeout", "d2": "article"}
    reason = res.tables["rejects"].column("reason")[0].as_py()
    assert reason == "extract_timeout: extraction exceeded extract.timeout_seconds=1"
    assert res.counters["rejects_by_reason"] == {"extract_timeout": 1}


def test_a_worker_that_dies_is_a_reject_and_is_replaced() -> None:
    docs = _docs(_page("CRASH" + BODY), _page(BODY))
    res = extract.run(docs, ExtractParams(timeout_seconds=10), html_extractor=_slow_on_marker)
    assert _fates(res) == {"d0": "extract_crashed", "d1": "article"}


def test_the_worker_gives_the_same_output_as_in_process(sample_out: Path) -> None:
    docs = runner.pio.read_table(sample_out / "stages" / "ingest" / "documents.parquet")
    a = extract.run(docs, ExtractParams(timeout_seconds=0))
    b = extract.run(docs, ExtractParams(timeout_seconds=30))
    for name in ("documents", "paragraphs", "rejects"):
        assert a.tables[name].equals(b.tables[name]), name


def test_hostile_corpus_end_to_end(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "good.html").write_text(_page(BODY), encoding="utf-8")
    (raw / "deep.html").write_text(_page("<div>" * 5_000 + BODY + "</div>" * 5_000), encoding="utf-8")
    (raw / "script.html").write_text("<html><body>" + "<script>x()</script>" * 1000 + "</body></html>")
    (raw / "bomb.html.gz").write_bytes(gzip.compress(b"<p>" + b" " * 3_000_000, mtime=0))
    (raw / "liar.html").write_bytes(_page("<p>Caf\xe9 cr\xe8me au march\xe9 du coin.</p>",
                                          '<meta charset="utf-8">').encode("latin-1"))
    (raw / "huge line.txt").write_text("A headline for a huge line\n" + "word " * 100_000, encoding="utf-8")
    params = Params(ingest=IngestParams(max_decompressed_bytes=1_000_000))
    runner.run_all(raw, tmp_path / "out", params)
    arts = pd.read_parquet(tmp_path / "out" / "articles.parquet")
    rejects = pd.read_parquet(tmp_path / "out" / "rejects.parquet")
    assert len(arts) + len(rejects) == 6
    assert dict(zip(rejects.source_path, rejects.reason_code, strict=True)) == {
        "bomb.html.gz": "gzip_too_large", "script.html": "no_text_extracted",
        "deep.html": "no_text_extracted"}
    assert "Café crème" in arts.set_index("source_path").loc["liar.html", "text"]
