from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import asyncpg

from engagement.kit.errors import Conflict, NotFound
from engagement.kit.ids import new_id, random_code
from engagement.kit.security import digest, new_api_key
from engagement.merchants import queries
from engagement.merchants.schemas import Merchant, MerchantCreate


class SlugTaken(Conflict):
    code, message = "slug_taken", "Another merchant already uses this slug."


class UnknownApiKey(NotFound):
    code, message = "unknown_api_key", "The merchant has no API key with this id."


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40]
    # Names in Chinese have no ASCII letters: give them a short random slug instead.
    return slug if len(slug) >= 2 else "m-" + random_code(6).lower()


async def create_merchant(conn: asyncpg.Connection, data: MerchantCreate) -> tuple[Merchant, str]:
    """Create a merchant and its first API key; the key is returned once and stored hashed."""
    slug = data.slug or slugify(data.name)
    if await queries.slug_exists(conn, slug):
        if data.slug:
            raise SlugTaken(slug=slug)
        slug = f"{slug[:33]}-{random_code(6).lower()}"
    merchant = await queries.insert_merchant(
        conn, id=new_id("mch"), slug=slug, name=data.name, currency=data.currency,
        time_zone=data.time_zone, settings={},
    )
    api_key = await issue_api_key(conn, merchant.id)
    return merchant, api_key


async def issue_api_key(conn: asyncpg.Connection, merchant_id: str,
                        now: datetime | None = None, name: str | None = None) -> str:
    """A new key, returned once: only its digest, its first characters and the name the
    owner gave it are kept."""
    key = new_api_key()
    await queries.insert_api_key(
        conn, id=new_id("key"), merchant_id=merchant_id, key_hash=digest(key), prefix=key[:7],
        now=now, name=name,
    )
    return key


async def revoke_api_key(conn: asyncpg.Connection, merchant_id: str, key_id: str,
                         now: datetime) -> None:
    """From the commit on, the key is refused (401): keys are looked up on every request."""
    if await queries.revoke_api_key(conn, merchant_id, key_id, now) is None:
        raise UnknownApiKey(key_id=key_id)
