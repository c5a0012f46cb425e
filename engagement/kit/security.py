"""Secrets handed to clients: merchant API keys and member tokens.

Both are 256-bit random strings shown once and stored only as SHA-256 digests; their prefix
tells which kind a bearer token is without a database round trip.
"""

from __future__ import annotations

import hashlib
import secrets

API_KEY_PREFIX = "ek_"
MEMBER_TOKEN_PREFIX = "mt_"  # noqa: S105 (a prefix, not a secret)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def new_member_token() -> str:
    return MEMBER_TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
