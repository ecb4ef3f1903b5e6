"""Byte-level helpers for ingest: decompression with a cap, binary sniffing, charset decisions."""

from __future__ import annotations

import codecs
import re
import zlib

_BOMS = [  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
]
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})["']""")
# Magic numbers of formats that are certainly not text.
_BINARY_MAGIC = {b"%PDF": "PDF", b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF",
                 b"PK\x03\x04": "ZIP", b"\x7fELF": "ELF", b"BZh": "bzip2", b"\xfd7zXZ": "xz"}
# Single-byte Western codecs a detector confuses on short input; WHATWG's fallback is windows-1252.
# Compared by `_norm` name: codecs.lookup spells some with hyphens ("iso8859-1", "utf-16").
_WESTERN = {"cp1250", "cp1252", "iso8859_1", "iso8859_15", "iso8859_2", "mac_roman", "cp1258"}
GZIP_MAGIC = b"\x1f\x8b"
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])  # the same, as bytes


class DecodeError(Exception):
    """Input that cannot become text; `code` is the reject reason code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def gunzip_capped(data: bytes, limit: int) -> bytes:
    """Decompress gzip (all members) without ever holding more than `limit` bytes of output."""
    out = bytearray()
    rest = data
    while rest:
        d = zlib.decompressobj(wbits=31)
        try:
            out += d.decompress(rest, limit + 1 - len(out))
        except zlib.error as exc:
            raise DecodeError("gzip_corrupt", f"gzip data is corrupt ({exc})") from exc
        if len(out) > limit:
            raise DecodeError("gzip_too_large",
                              f"decompressed size exceeds ingest.max_decompressed_bytes={limit}")
        if d.unconsumed_tail:
            raise DecodeError("gzip_too_large",
                              f"decompressed size exceeds ingest.max_decompressed_bytes={limit}")
        if not d.eof:
            raise DecodeError("gzip_truncated", "gzip stream ends before its end-of-stream marker")
        rest = d.unused_data.lstrip(b"\x00")  # concatenated members, zero padding tolerated
    return bytes(out)


def _norm(codec_name: str) -> str:
    return codec_name.replace("-", "_")


def binary_kind(data: bytes) -> str | None:
    """Name of a binary format recognised by its magic number, or 'NUL bytes' for any NUL."""
    for magic, name in _BINARY_MAGIC.items():
        if data.startswith(magic):
            return name
    if data.find(b"\x00", 0, 65536) != -1:  # not `in data[:65536]`: no copy of the head
        return "NUL bytes"
    return None


def bom_encoding(data: bytes) -> str | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return None


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML/XML page declares in its first 4 KiB, if Python knows the codec."""
    head = data[:4096]
    m = _XML_DECL.search(head) or _META_CHARSET.search(head)
    return known_charset(m.group(1).decode("ascii")) if m else None


def known_charset(label: str) -> str | None:
    """A declared charset label (meta tag, HTTP header) as a Python codec name, or None."""
    try:
        name = codecs.lookup(label.strip()[:40]).name
        "".encode(name)  # "base64", "zlib", "rot13" are codecs too, but not text encodings
    except (LookupError, ValueError):
        return None
    # The declaration was just read as ASCII, so the bytes are not UTF-16/32: a page that says so
    # is wrong (WHATWG reads it as UTF-8), and decoding ASCII as UTF-16 "succeeds" with garbage.
    # UTF-7 is obsolete and a known way to smuggle markup past filters.
    return None if _norm(name).startswith(("utf_16", "utf_32", "utf_7")) else name


def guess_charset(data: bytes) -> str | None:
    """For bytes that do not decode as UTF-8 (callers try that first): the detector's guess, with
    Western guesses folded to cp1252."""
    from charset_normalizer import from_bytes  # heavy import, only for non-UTF-8 input

    best = from_bytes(data).best()
    guess = codecs.lookup(best.encoding).name if best is not None else None
    if guess is None or _norm(guess) in _WESTERN or _norm(guess).startswith(("utf_16", "utf_32")):
        try:
            data.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            return None if guess is None or _norm(guess).startswith("utf_") else guess
    return guess


def control_ratio(text: str, data: bytes | None = None, encoding: str | None = None) -> float:
    """Share of `text`'s characters that are control characters. When `text` is `data` decoded
    as UTF-8 (or ASCII) they are counted in the bytes, 6x faster: each is one byte there, and
    UTF-8 never uses those byte values inside a longer character."""
    if not text:
        return 0.0
    if data is not None and encoding is not None and _byte_exact(encoding):
        return (len(data) - len(data.translate(None, _CONTROL_BYTES))) / len(text)
    return len(_CONTROL.findall(text)) / len(text)


def _byte_exact(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig", "ascii")
    except LookupError:
        return False
