"""Opaque, time-ordered identifiers: ``<prefix>_<ULID-like>``.

Time order keeps B-tree inserts at the right edge (draws arrive fast); 80 random bits keep
them unguessable across tenants.
"""

from __future__ import annotations

import base64
import secrets
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# base64's base32 alphabet, index for index onto Crockford's, which sorts like the numbers
# it encodes: encoded ids then sort by time.
_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD)


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=").translate(_TO_CROCKFORD)


def new_id(prefix: str) -> str:
    ms = time.time_ns() // 1_000_000
    return f"{prefix}_{_b32(ms.to_bytes(6, 'big'))}{_b32(secrets.token_bytes(10))}"


def id_floor(prefix: str, ms: int) -> str:
    """The smallest id of any object made at ``ms`` (epoch milliseconds) or later: a lower
    bound for range scans of time-ordered ids."""
    return f"{prefix}_{_b32(ms.to_bytes(6, 'big'))}{'0' * 16}"


def random_code(length: int) -> str:
    """A random code from Crockford's alphabet (no I, L, O, U): easy to read out at a till."""
    return "".join(secrets.choice(_CROCKFORD) for _ in range(length))


# Byte -> symbol: 256 is a multiple of 32, so each symbol is equally likely.
_BYTE_TO_CODE = bytes(ord(_CROCKFORD[b & 31]) for b in range(256))


def random_codes(count: int, length: int) -> list[str]:
    """``count`` codes like random_code's, drawn in one go for bulk issues (a send)."""
    text = secrets.token_bytes(count * length).translate(_BYTE_TO_CODE).decode("ascii")
    return [text[i:i + length] for i in range(0, len(text), length)]
