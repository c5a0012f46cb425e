"""Opaque, time-ordered identifiers: ``<prefix>_<ULID-like>``.

Time order keeps B-tree inserts at the right edge (draws arrive fast); 80 random bits keep
them unguessable across tenants.
"""

from __future__ import annotations

import secrets
import time

# Crockford's base32 sorts like the numbers it encodes: encoded ids then sort by time.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Every pair of symbols, indexed by the 10 bits they encode: two symbols per lookup.
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_TIME_CHARS, _RANDOM_BITS = 10, 80


def _crockford(value: int, chars: int) -> str:
    """``value`` as ``chars`` (even) symbols, most significant first."""
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in range(chars * 5 - 10, -1, -10)])


def _time_part(ms: int) -> str:
    # 48 bits of milliseconds, left-aligned in 10 symbols (50 bits), as base32 writes 6 bytes.
    return _crockford(ms << 2, _TIME_CHARS)


_last: tuple[int, str] = (-1, "")  # one tuple, so threads see a matching pair


def new_id(prefix: str) -> str:
    """Draws mint one per request: the time part is reused within a millisecond."""
    global _last
    ms = time.time_ns() // 1_000_000
    last = _last
    if last[0] != ms:
        last = _last = (ms, _time_part(ms))
    return f"{prefix}_{last[1]}{_crockford(secrets.randbits(_RANDOM_BITS), 16)}"


def id_floor(prefix: str, ms: int) -> str:
    """The smallest id of any object made at ``ms`` (epoch milliseconds) or later: a lower
    bound for range scans of time-ordered ids."""
    return f"{prefix}_{_time_part(ms)}{'0' * 16}"


def random_code(length: int) -> str:
    """A random code from Crockford's alphabet (no I, L, O, U): easy to read out at a till."""
    return "".join(secrets.choice(_CROCKFORD) for _ in range(length))


# Byte -> symbol: 256 is a multiple of 32, so each symbol is equally likely.
_BYTE_TO_CODE = bytes(ord(_CROCKFORD[b & 31]) for b in range(256))


def random_codes(count: int, length: int) -> list[str]:
    """``count`` codes like random_code's, drawn in one go for bulk issues (a send)."""
    text = secrets.token_bytes(count * length).translate(_BYTE_TO_CODE).decode("ascii")
    return [text[i:i + length] for i in range(0, len(text), length)]
