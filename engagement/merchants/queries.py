from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

from engagement.merchants.schemas import Merchant

_COLUMNS = "m.id, m.slug, m.name, m.currency, m.time_zone, m.settings, m.created_at"


def _merchant(row: asyncpg.Record | None) -> Merchant | None:
    return Merchant(**dict(row)) if row is not None else None


async def insert_merchant(conn: asyncpg.Connection, *, id: str, slug: str, name: str,
                          currency: str, time_zone: str, settings: dict[str, Any]) -> Merchant:
    row = await conn.fetchrow(
        f"""INSERT INTO merchants AS m (id, slug, name, currency, time_zone, settings)
            VALUES ($1, $2, $3, $4, $5, $6::text::jsonb) RETURNING {_COLUMNS}""",
        id, slug, name, currency, time_zone, json.dumps(settings),
    )
    merchant = _merchant(row)
    assert merchant is not None
    return merchant


async def slug_exists(conn: asyncpg.Connection, slug: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM merchants WHERE slug = $1", slug))


async def insert_api_key(conn: asyncpg.Connection, *, id: str, merchant_id: str,
                         key_hash: bytes, prefix: str, now: datetime | None = None,
                         name: str | None = None) -> None:
    await conn.execute(
        """INSERT INTO api_keys (id, merchant_id, key_hash, prefix, created_at, name)
           VALUES ($1, $2, $3, $4, coalesce($5, now()), $6)""",
        id, merchant_id, key_hash, prefix, now, name,
    )


async def api_keys_of_merchant(conn: asyncpg.Connection | asyncpg.Pool,
                               merchant_id: str) -> list[asyncpg.Record]:
    """Active keys first, newest first; the secret itself is never stored."""
    return await conn.fetch(
        """SELECT id, prefix, name, created_at, revoked_at FROM api_keys WHERE merchant_id = $1
           ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC""",
        merchant_id,
    )


async def revoke_api_key(conn: asyncpg.Connection, merchant_id: str, key_id: str,
                         now: datetime) -> asyncpg.Record | None:
    """Revoked from ``now`` on (a key revoked before keeps its first time); None when the
    merchant has no such key."""
    return await conn.fetchrow(
        """UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3)
           WHERE merchant_id = $1 AND id = $2 RETURNING id, prefix, revoked_at""",
        merchant_id, key_id, now,
    )


async def merchant_by_key_hash(conn: asyncpg.Connection | asyncpg.Pool,
                               key_hash: bytes) -> Merchant | None:
    """The key's merchant, read on every request (no cache): a revoked key stops at once."""
    row = await conn.fetchrow(
        f"""SELECT {_COLUMNS} FROM api_keys k JOIN merchants m ON m.id = k.merchant_id
            WHERE k.key_hash = $1 AND k.revoked_at IS NULL""",
        key_hash,
    )
    return _merchant(row)


async def merchant_by_slug(conn: asyncpg.Connection | asyncpg.Pool,
                           slug: str) -> Merchant | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM merchants m WHERE slug = $1", slug)
    return _merchant(row)


async def merchant_by_id(conn: asyncpg.Connection | asyncpg.Pool, id: str) -> Merchant | None:
    return _merchant(await conn.fetchrow(f"SELECT {_COLUMNS} FROM merchants m WHERE id = $1", id))


async def set_brand_color(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                          color: str) -> None:
    await conn.execute(
        """UPDATE merchants SET settings = settings || jsonb_build_object('brand_color', $2::text)
           WHERE id = $1""",
        merchant_id, color,
    )


async def save_logo(conn: asyncpg.Connection, merchant_id: str, content_type: str,
                    image: bytes, version: str, url: str, now: datetime) -> None:
    """The logo and the URL member pages show it at, together."""
    await conn.execute(
        """INSERT INTO merchant_logos (merchant_id, content_type, image, version, updated_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (merchant_id) DO UPDATE SET content_type = EXCLUDED.content_type,
               image = EXCLUDED.image, version = EXCLUDED.version,
               updated_at = EXCLUDED.updated_at""",
        merchant_id, content_type, image, version, now,
    )
    await conn.execute(
        """UPDATE merchants SET settings = settings || jsonb_build_object('logo_url', $2::text)
           WHERE id = $1""",
        merchant_id, url,
    )


async def remove_logo(conn: asyncpg.Connection, merchant_id: str) -> None:
    await conn.execute("DELETE FROM merchant_logos WHERE merchant_id = $1", merchant_id)
    await conn.execute("UPDATE merchants SET settings = settings - 'logo_url' WHERE id = $1",
                       merchant_id)


async def logo(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
               version: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT content_type, image FROM merchant_logos
           WHERE merchant_id = $1 AND version = $2""",
        merchant_id, version,
    )
