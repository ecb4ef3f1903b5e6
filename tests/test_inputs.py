"""Crawl inputs: WARC, JSONL and Parquet files become one document per record, with provenance;
records that are not documents are counted, bad records are rejects, and the run goes on."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT

from pipeline import runner, schema
from pipeline.export_errors import AccountingError
from pipeline.params import IngestParams, Params, ParamsError, params_from_mapping
from pipeline.stages import export, ingest

DATA = ROOT / "tests" / "data"
SAMPLES = ("sample.warc.gz", "sample.jsonl", "sample.parquet")
WARC_HTML_ID = "<urn:uuid:00000000-0000-4000-8000-000000000002>"


def _raw(tmp: Path, *names: str, folder: str = "raw") -> Path:
    raw = tmp / folder
    raw.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(DATA / name, raw / name)
    return raw


def _ingest(raw: Path, out: Path, **ingest_params: object) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    counters = runner.run_ingest(raw, out, Params(ingest=IngestParams(**ingest_params)))
    stage = out / "stages" / "ingest"
    return (pd.read_parquet(stage / "documents.parquet"), pd.read_parquet(stage / "rejects.parquet"),
            counters)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("containers")
    out = tmp / "out"
    runner.run_all(_raw(tmp, *SAMPLES), out, Params())
    return out


def test_warc_html_response_is_a_document_with_its_provenance(tmp_path: Path) -> None:
    docs, rejects, counters = _ingest(_raw(tmp_path, "sample.warc.gz"), tmp_path / "out")
    assert rejects.empty
    [doc] = docs.to_dict("records")
    assert doc["doc_id"] == "sample#0000003"  # the third record of the file
    assert doc["source_path"] == "sample.warc.gz" and doc["source_record"] == WARC_HTML_ID
    assert doc["source_date"] == "2024-05-02T10:00:00Z"
    assert doc["url"] == "https://gazette.example.org/2024/harbour-channel"
    assert doc["source_format"] == "html" and doc["compression"] == "gzip"
    assert doc["encoding"] == "iso8859-1"  # from the HTTP Content-Type header
    assert counters["records"] == 5 and counters["documents"] == 1
    assert counters["records_skipped"] == {"metadata": 1, "request": 1, "response_not_html": 1,
                                           "warcinfo": 1}


def test_uncompressed_warc_gives_the_same_document(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "crawl.warc").write_bytes(gzip.decompress((DATA / "sample.warc.gz").read_bytes()))
    docs, rejects, _ = _ingest(raw, tmp_path / "out")
    assert rejects.empty and docs.doc_id.tolist() == ["crawl#0000003"]
    gz_docs, _, _ = _ingest(_raw(tmp_path, "sample.warc.gz", folder="raw_gz"), tmp_path / "out2")
    assert docs.content.item() == gz_docs.content.item() and pd.isna(docs.compression.item())


def test_every_record_and_row_has_one_fate(sample_run: Path) -> None:
    articles = pd.read_parquet(sample_run / "articles.parquet")
    rejects = pd.read_parquet(sample_run / "rejects.parquet")
    got = {**{d: "article" for d in articles.doc_id}, **dict(zip(rejects.doc_id, rejects.reason_code,
                                                                  strict=True))}
    assert got == {
        "sample.warc.gz#0000003": "article",
        "sample.jsonl#0000001": "article", "sample.jsonl#0000002": "article",
        "sample.jsonl#0000004": "invalid_json", "sample.jsonl#0000005": "no_content",
        "sample.jsonl#0000006": "bad_record", "sample.jsonl#0000007": "bad_record",
        "sample.jsonl#0000008": "bad_record", "sample.jsonl#0000009": "article",
        "sample.parquet#0000001": "article", "sample.parquet#0000002": "article",
        "sample.parquet#0000003": "no_content", "sample.parquet#0000004": "article",
    }
    metrics = json.loads((sample_run / "metrics" / "export.json").read_text())["export"]
    assert metrics["input_documents"] == 13 and metrics["input_files"] == 3


def test_rows_keep_their_id_url_and_kind(sample_run: Path) -> None:
    arts = pd.read_parquet(sample_run / "articles.parquet").set_index("doc_id")
    assert arts.loc["sample.jsonl#0000001", "source_record"] == "g-101"
    assert arts.loc["sample.jsonl#0000001", "source_format"] == "html"  # html goes through extraction
    assert arts.loc["sample.jsonl#0000001", "title"] == "Quiet hours agreed for the harbour dredgers"
    assert arts.loc["sample.jsonl#0000002", "source_record"] == "102"  # an integer id
    assert arts.loc["sample.jsonl#0000002", "source_format"] == "text"
    assert arts.loc["sample.jsonl#0000009", "source_record"] == "9"  # no id: the line number
    assert arts.loc["sample.parquet#0000004", "source_format"] == "text"  # blank html, text used
    assert arts.loc["sample.parquet#0000001", "url"] == "https://gazette.example.org/2024/storm-warning"
    assert arts.loc["sample.parquet#0000001", "source_path"] == "sample.parquet"
    docs = pd.read_parquet(sample_run / "stages" / "extract" / "documents.parquet").set_index("doc_id")
    assert docs.loc["sample.parquet#0000001", "hostname"] == "gazette.example.org"  # from the URL


def test_bad_rows_say_which_row_and_why(sample_run: Path) -> None:
    rejects = pd.read_parquet(sample_run / "rejects.parquet").set_index("doc_id")
    assert rejects.loc["sample.jsonl#0000004", "reason"].startswith("invalid_json: line 4 is not valid JSON")
    assert rejects.loc["sample.jsonl#0000006", "reason"] == ("bad_record: field 'html' must be a string, "
                                                             "not int")
    assert rejects.loc["sample.jsonl#0000006", "source_record"] == "g-106"
    assert rejects.loc["sample.jsonl#0000007", "source_record"] == "7"  # the id itself was bad
    assert (rejects.source_path.isin(SAMPLES)).all() and rejects.source_record.notna().all()


def test_jsonl_gz_and_other_field_names(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    rows = [{"key": "k1", "link": "https://a.example/x", "body": "A headline of some words\n\nThe body."},
            {"key": "k2", "page": "<html><body><article><p>One paragraph of an article body that "
                                  "is long enough to be kept by the extractor.</p></article></body></html>"}]
    data = "\n".join(json.dumps(r) for r in rows).encode()
    (raw / "part-0.jsonl.gz").write_bytes(gzip.compress(data, mtime=0))
    docs, rejects, _ = _ingest(raw, tmp_path / "out", id_field="key", url_field="link",
                               html_field="page", text_field="body")
    assert rejects.empty
    assert docs.source_record.tolist() == ["k1", "k2"] and docs.source_format.tolist() == ["text", "html"]
    assert docs.compression.tolist() == ["gzip", "gzip"] and docs.url.tolist()[0] == "https://a.example/x"


def _warc(records: list[tuple[str, bytes, list[tuple[str, str]]]]) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for i, (kind, payload, headers) in enumerate(records):
        http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1") if kind == "response" else \
            StatusAndHeaders("GET / HTTP/1.1", [], is_http_request=True)
        writer.write_record(writer.create_warc_record(
            f"https://x.example/{i}", kind, payload=io.BytesIO(payload), http_headers=http,
            warc_headers_dict={"WARC-Record-ID": f"<urn:uuid:{i}>", "WARC-Date": "2024-01-01T00:00:00Z"}))
    return buf.getvalue()


HTML_PAGE = b"<html><body><article><p>" + b"A sentence of the article. " * 10 \
    + b"</p></article></body></html>"


def _hostile(name: str) -> bytes:
    if name == "truncated.warc.gz":
        return (DATA / "sample.warc.gz").read_bytes()[:-40]  # cut inside the last (metadata) record
    if name == "bomb.warc.gz":  # an HTML body gzip-encoded by the server, 5 MB unpacked
        body = gzip.compress(b"<p>" + b"a" * 5_000_000 + b"</p>")
        return _warc([("response", body, [("Content-Type", "text/html"), ("Content-Encoding", "gzip")]),
                      ("response", HTML_PAGE, [("Content-Type", "text/html")])])
    if name == "requests.warc.gz":
        return _warc([("request", b"", [])])
    if name == "bomb.jsonl.gz":
        return gzip.compress(b"\n" * 3_000_000)
    if name == "long.jsonl":
        return b'{"text": "' + b"x " * 600_000 + b'"}\n' + json.dumps({"text": "Short one\n\nok"}).encode()
    if name == "surrogate.jsonl":
        return b'{"text": "lone \\ud800 surrogate"}\n'
    if name == "latin1.jsonl":
        return '{"text": "café"}\n'.encode("latin-1")
    if name == "deep.jsonl":
        return b"[" * 100_000 + b"\n"
    if name == "types.parquet":
        buf = io.BytesIO()
        pq.write_table(pa.table({"id": ["a"], "html": [42]}), buf)
        return buf.getvalue()
    if name == "fake.parquet":
        return b"PAR1 this is not a parquet file"
    return b"<html>not a WARC</html>\n" if name == "garbage.warc" else b""


@pytest.mark.parametrize("name, expected", [
    ("truncated.warc.gz", {"truncated#0000003": "document", "truncated": "gzip_truncated"}),
    ("bomb.warc.gz", {"bomb#0000001": "too_large", "bomb#0000002": "document"}),
    ("requests.warc.gz", {"requests": "no_documents"}),
    ("garbage.warc", {"garbage": "container_corrupt"}),
    ("bomb.jsonl.gz", {"bomb": "container_too_large"}),
    ("long.jsonl", {"long#0000001": "too_large", "long#0000002": "document"}),
    ("surrogate.jsonl", {"surrogate#0000001": "undecodable"}),
    ("latin1.jsonl", {"latin1#0000001": "invalid_json"}),
    ("deep.jsonl", {"deep#0000001": "invalid_json"}),
    ("types.parquet", {"types": "bad_record"}),
    ("fake.parquet", {"fake": "container_corrupt"}),
    ("empty.jsonl", {"empty": "no_documents"}),
])
def test_hostile_containers_become_rejects_not_crashes(tmp_path: Path, name: str, expected: dict) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / name).write_bytes(_hostile(name))
    docs, rejects, _ = _ingest(raw, tmp_path / "out", max_file_bytes=1_000_000,
                               max_container_bytes=2_000_000)
    got = {**{d: "document" for d in docs.doc_id}, **dict(zip(rejects.doc_id, rejects.reason_code,
                                                              strict=True))}
    assert got == expected
    for r in rejects.itertuples():
        assert r.reason.startswith(r.reason_code + ": ") and r.source_path == name


def test_a_fifo_container_is_not_read(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    os.mkfifo(raw / "pipe.jsonl")
    _, rejects, _ = _ingest(raw, tmp_path / "out")
    assert rejects.reason_code.tolist() == ["not_a_regular_file"]


def test_record_ids_never_meet_file_ids() -> None:
    ids = ingest.assign_doc_ids(["a.jsonl", "a#0000001.txt", "b#0000001.txt", "c.txt", "c.parquet"])
    assert ids == {"a.jsonl": "a", "a#0000001.txt": "a#0000001.txt", "b#0000001.txt": "b#0000001",
                   "c.txt": "c.txt", "c.parquet": "c.parquet"}
    assert ingest.record_doc_id("a", 12) == "a#0000012" and ingest.record_doc_id("a", None) == "a"


@pytest.mark.parametrize("section, message", [
    ({"text_field": "html"}, "four different names"),
    ({"id_field": ""}, "non-empty strings"),
    ({"url_field": 3}, "non-empty strings"),
    ({"max_container_bytes": 0}, "max_container_bytes must be >= 1"),
])
def test_impossible_ingest_params_are_refused(section: dict, message: str) -> None:
    with pytest.raises(ParamsError, match=message):
        params_from_mapping({"ingest": section})


def test_a_record_with_two_fates_stops_the_export() -> None:
    docs = pa.Table.from_pylist([{"doc_id": "c#0000001", "source_path": "c.jsonl", "source_record": "r1",
                                  "source_sha256": "0", "source_format": "text"},
                                 {"doc_id": "c#0000002", "source_path": "c.jsonl", "source_record": "r1",
                                  "source_sha256": "0", "source_format": "text"}],
                                schema=schema.DOCUMENTS).drop_columns(["extracted_text"])
    paras = pa.Table.from_pylist([{"doc_id": d, "para_idx": 0, "text": "t", "status": "kept"}
                                  for d in ("c#0000001", "c#0000002")], schema=schema.PARAGRAPHS)
    # Two records of one file sharing a user id are two inputs: that is fine.
    assert export.run(docs, paras, schema.REJECTS.empty_table(),
                      export.RunInfo("v", "p", "r", 2, 2)).counters["articles"] == 2
    rejects = pa.Table.from_pylist([schema.reject_row("c.jsonl", "bad_record", "x", "ingest", "c#0000002",
                                                      None, "r1")], schema=schema.REJECTS)
    with pytest.raises(AccountingError, match=re.escape("more than one fate, e.g. 'c#0000002' (a record "
                                                        "of 'c.jsonl')")):
        export.run(docs, paras, rejects, export.RunInfo("v", "p", "r", 3, 2))
