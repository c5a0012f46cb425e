"""Console passwords: argon2id (RFC 9106's recommended low-memory profile, argon2-cffi's
default). Hashing costs tens of milliseconds of CPU on purpose, so it runs in a thread and
never stalls the event loop that serves draws."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engagement.kit.ids import random_code

_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _decoy() -> str:
    """A hash to check unknown emails against, so that they take as long as known ones and
    timing does not tell which emails have an account."""
    return _hasher.hash("decoy password, never matches a real one")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _decoy(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    return await asyncio.to_thread(_verify, stored, password)


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker parameters than today's defaults."""
    return _hasher.check_needs_rehash(stored)


def generate_password() -> str:
    """A password an owner can read out or copy to a new member of staff: 12 symbols of
    Crockford's alphabet (60 random bits, no I/L/O/U to misread), in groups of four."""
    code = random_code(12)
    return "-".join(code[i:i + 4] for i in range(0, 12, 4))
