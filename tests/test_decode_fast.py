"""ingest's fast paths give the answers of the slow ones: control characters counted in UTF-8
bytes, UTF-8 decoded once."""

from __future__ import annotations

import codecs
import random

import pytest

from pipeline import decode
from pipeline.params import IngestParams
from pipeline.stages import ingest


def test_control_ratio_in_bytes_is_the_ratio_in_text() -> None:
    alphabet = ["a", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x00", "\x01", "\x1b", "\x1f", "\x7f", "\x80",
                "\x9f", "é", "€", "😀", "\u2028"]
    rnd = random.Random(5)
    for _ in range(3000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 30)))
        slow = decode.control_ratio(text)
        assert decode.control_ratio(text, text.encode("utf-8"), "utf-8") == slow
        assert decode.control_ratio(text, codecs.BOM_UTF8 + text.encode("utf-8"), "utf-8-sig") == slow


def test_control_ratio_in_bytes_for_ascii_and_not_for_utf16() -> None:
    text = "abc\x01\t"
    assert decode.control_ratio(text, text.encode("ascii"), "ascii") == decode.control_ratio(text) == 0.2
    # In UTF-16 the bytes of "abc\x01" hold five NULs: counting them would say 1.25, not 0.25.
    assert decode.control_ratio("abc\x01", "abc\x01".encode("utf-16-le"), "utf-16-le") == 0.25


@pytest.mark.parametrize("data, code", [
    (b"\x01\x02 mostly control \x03\x04\x05\x06\x07\x08\x0e\x0f", "binary_content"),
    (codecs.BOM_UTF8 + b"\x01\x02\x03\x04\x05\x06\x07\x08 x", "binary_content"),
    ("\u3000\x85\u2028 \n".encode(), "empty_file"),  # Unicode blanks only: nothing after decoding
])
def test_utf8_input_is_refused_as_before(data: bytes, code: str) -> None:
    with pytest.raises(decode.DecodeError) as err:
        ingest.decode_bytes(data, "text", False, IngestParams())
    assert err.value.code == code


def test_utf8_and_fallback_decodings() -> None:
    assert ingest.decode_bytes("Grüße\n".encode(), "text", False, IngestParams()).encoding == "utf-8"
    latin = ingest.decode_bytes("Grüße aus Köln, schön\n".encode("cp1252"), "text", False, IngestParams())
    assert latin.encoding == "cp1252" and latin.content == "Grüße aus Köln, schön\n"
