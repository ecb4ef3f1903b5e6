"""64-bit hashing primitives in numpy; uint64 arithmetic wraps, which is the intended mod 2^64."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_M64 = (1 << 64) - 1
_BASE = 0x100000001B3                      # odd, so invertible mod 2^64
_BASE_INV = pow(_BASE, -1, 1 << 64)
_FMIX64 = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: a bijection that spreads every input bit over the output."""
    s, m1, m2 = _FMIX64
    h = h ^ (h >> s)
    h = h * m1
    h = h ^ (h >> s)
    h = h * m2
    return h ^ (h >> s)


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch's affine32 scheme pre-mixes its input."""
    s1, m1, s2, m2 = _FMIX32
    h = h ^ (h >> s1)
    h = h * m1
    h = h ^ (h >> s2)
    h = h * m2
    return h ^ (h >> s1)


@lru_cache(maxsize=4)
def _power_table(base: int, size: int) -> np.ndarray:
    out = np.full(size, base, dtype=np.uint64)
    out[0] = 1
    table = np.cumprod(out, dtype=np.uint64)
    table.flags.writeable = False
    return table


def _powers(base: int, n: int) -> np.ndarray:
    """base^0 .. base^(n-1) mod 2^64; tables are cached by power-of-two size (constants, not state)."""
    return _power_table(base, 1 << max(n - 1, 1).bit_length())[:n]


def segment_hash(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """sum(values[j] * BASE^(j - start)) mod 2^64 for each segment [start, end), via prefix sums.

    One pass over `values` whatever the number of segments: the prefix sum of values[j] * BASE^j
    gives each segment's sum at its absolute position, and BASE^-start shifts it back to 0.
    """
    if len(starts) == 0:
        return np.zeros(0, dtype=np.uint64)
    n = len(values)
    prefix = np.empty(n + 1, dtype=np.uint64)
    prefix[0] = 0
    np.multiply(values, _powers(_BASE, n), out=prefix[1:])  # casts uint8/uint32 values in the loop
    np.cumsum(prefix, out=prefix)
    raw = prefix[ends] - prefix[starts]
    return raw * _powers(_BASE_INV, n + 1)[starts]


def segment_hash_scalar(values: list[int]) -> int:
    """The same as `fmix64(segment_hash(...))` for one segment, in plain Python (for tests)."""
    acc = 0
    for j, v in enumerate(values):
        acc = (acc + v * pow(_BASE, j, 1 << 64)) & _M64
    return int(fmix64(np.array([acc], dtype=np.uint64))[0])


# MASKS[k] keeps the low k bytes of a little-endian 8-byte load (k = 8: all of them).
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
PAD = 8  # zero bytes `word_hash` needs after the last word, so every 8-byte load stays in bounds


def word_hash(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """64-bit hash of each byte run buf[start:end] (no zero byte inside a run; buf ends in PAD zeros).

    Work is per word, not per byte: one unaligned 8-byte load per 8 bytes of word. A word of up
    to 8 bytes is its own bytes (so distinct short words never collide) and longer ones chain
    the next 8 bytes in with the finaliser; the result goes through the finaliser once more.
    """
    lanes = np.ndarray((len(buf) - PAD + 1,), dtype="<u8", buffer=buf, strides=(1,))
    lens = ends - starts
    h = lanes[starts] & _MASKS[np.minimum(lens, 8)]
    off, long = 8, np.flatnonzero(lens > 8)
    while len(long):  # rare: only words longer than 8 bytes, 8 more bytes per round
        chunk = lanes[starts[long] + off] & _MASKS[np.minimum(lens[long] - off, 8)]
        h[long] = fmix64(h[long]) ^ chunk
        off += 8
        long = long[lens[long] > off]
    return fmix64(h)


def word_hash_scalar(word: bytes) -> int:
    """The same as `word_hash` for one word, in plain Python (for tests)."""
    h = int.from_bytes(word[:8], "little")
    for off in range(8, len(word), 8):
        h = int(fmix64(np.array([h], dtype=np.uint64))[0]) ^ int.from_bytes(word[off:off + 8], "little")
    return int(fmix64(np.array([h], dtype=np.uint64))[0])
