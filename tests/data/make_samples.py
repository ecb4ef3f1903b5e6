"""Write the container samples in this folder: a WARC, a JSONL and a Parquet file.

    .venv/bin/python tests/data/make_samples.py

Each is tiny and holds what the ingest tests need: an HTML response, records that are not
documents (warcinfo, request, metadata, an image), text-only rows, and bad rows of every kind.
Record ids and dates are fixed, so the files are the same on every run.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

HERE = Path(__file__).resolve().parent
PARAS = [
    "The harbour authority approved a plan on Tuesday to dredge the northern channel before the "
    "autumn storms, after two cargo ships ran aground there within a month.",
    "Engineers said the work would take eleven weeks and cost less than the repairs the groundings "
    "had already forced on the quay, which lost a crane and forty metres of fencing.",
    "Fishing crews, who use the channel at night, asked for the dredgers to stop at dusk; the "
    "authority agreed to a trial of quiet hours and will publish a timetable next week.",
]


def article_html(title: str, paras: list[str], charset: str = "utf-8") -> str:
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (f'<html><head><meta charset="{charset}"><title>{title}</title></head><body>'
            f'<nav><a href="/">Home</a> <a href="/news">News</a></nav>'
            f"<article><h1>{title}</h1>{body}</article>"
            f"<footer>Copyright Harbour Gazette</footer></body></html>")


def _record(writer: WARCWriter, kind: str, uri: str, n: int, payload: bytes,
            http: StatusAndHeaders | None = None, content_type: str | None = None) -> None:
    headers = {"WARC-Record-ID": f"<urn:uuid:00000000-0000-4000-8000-{n:012d}>",
               "WARC-Date": f"2024-05-0{n}T10:00:00Z"}
    rec = writer.create_warc_record(uri, kind, payload=io.BytesIO(payload), http_headers=http,
                                    warc_headers_dict=headers, warc_content_type=content_type)
    writer.write_record(rec)


def write_warc(path: Path) -> None:
    page = article_html("Harbour channel to be dredged before the storms", PARAS,
                        charset="iso-8859-1").encode("latin-1")
    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=True)
        info = w.create_warcinfo_record(path.name, {"software": "make_samples.py"})
        info.rec_headers.replace_header("WARC-Record-ID", "<urn:uuid:00000000-0000-4000-8000-000000000000>")
        info.rec_headers.replace_header("WARC-Date", "2024-05-01T09:00:00Z")
        w.write_record(info)
        url = "https://gazette.example.org/2024/harbour-channel"
        _record(w, "request", url, 1, b"",
                StatusAndHeaders("GET /2024/harbour-channel HTTP/1.1", [("Host", "gazette.example.org")],
                                 is_http_request=True))
        _record(w, "response", url, 2, page,
                StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=ISO-8859-1")],
                                 protocol="HTTP/1.1"))
        _record(w, "response", "https://gazette.example.org/logo.png", 3, b"\x89PNG\r\n\x1a\n" + b"\0" * 32,
                StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1"))
        _record(w, "metadata", url, 4, b"outlinks: https://gazette.example.org/news\n",
                content_type="application/warc-fields")


JSONL_ROWS = [
    json.dumps({"id": "g-101", "url": "https://gazette.example.org/2024/quiet-hours",
                "html": article_html("Quiet hours agreed for the harbour dredgers", PARAS[1:] + PARAS[:1])}),
    json.dumps({"id": 102, "text": "Ferry timetable changes from Monday\n\n" + "\n\n".join(PARAS[::-1])}),
    "",
    '{"id": "g-104", "text": "unterminated',
    json.dumps({"id": "g-105", "url": "https://gazette.example.org/empty"}),
    json.dumps({"id": "g-106", "html": 42}),
    json.dumps({"id": ["g", 107], "text": "an id that is a list"}),
    json.dumps(["not", "an", "object"]),
    json.dumps({"text": "A row without an id keeps its line number\n\n" + PARAS[2]}),
]


def write_jsonl(path: Path) -> None:
    data = ("\n".join(JSONL_ROWS) + "\n").encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)


def write_parquet(path: Path) -> None:
    rows = [
        {"id": "p-1", "url": "https://gazette.example.org/2024/storm-warning",
         "html": article_html("Storm warning issued for the northern coast", PARAS[2:] + PARAS[:2]),
         "text": None},
        {"id": "p-2", "url": None, "html": None, "text": "Harbour fees to rise in spring\n\n" + PARAS[0]},
        {"id": "p-3", "url": None, "html": None, "text": None},
        {"id": None, "url": None, "html": "   ", "text": "Blank html falls back to the text field\n\n"
                                                         + PARAS[1]},
    ]
    schema = pa.schema([("id", pa.string()), ("url", pa.string()), ("html", pa.string()),
                        ("text", pa.string())])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, compression="zstd")


def main() -> None:
    write_warc(HERE / "sample.warc.gz")
    write_jsonl(HERE / "sample.jsonl")
    write_parquet(HERE / "sample.parquet")


if __name__ == "__main__":
    main()
