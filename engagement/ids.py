"""Opaque, time-ordered identifiers: ``<prefix>_<ULID>``.

Time order keeps B-tree inserts at the right edge (draws arrive fast); 80 random bits keep
them unguessable across tenants.
"""

from __future__ import annotations

import secrets
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _b32(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id(prefix: str) -> str:
    ms = time.time_ns() // 1_000_000
    return f"{prefix}_{_b32(ms, 10)}{_b32(secrets.randbits(80), 16)}"


def random_code(length: int) -> str:
    """A random code from Crockford's alphabet (no I, L, O, U): easy to read out at a till."""
    return "".join(secrets.choice(_CROCKFORD) for _ in range(length))
