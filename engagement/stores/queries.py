from __future__ import annotations

from datetime import datetime

import asyncpg

Conn = asyncpg.Connection | asyncpg.Pool

_STORE = "id, merchant_id, name, created_at"


async def insert_store(conn: asyncpg.Connection, *, id: str, merchant_id: str, name: str,
                       now: datetime) -> asyncpg.Record | None:
    """None when the merchant has a store of this name."""
    return await conn.fetchrow(
        f"""INSERT INTO stores (id, merchant_id, name, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT ON CONSTRAINT stores_merchant_name_key DO NOTHING
            RETURNING {_STORE}""",
        id, merchant_id, name, now,
    )


async def store_by_id(conn: Conn, merchant_id: str, store_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_STORE} FROM stores WHERE merchant_id = $1 AND id = $2",
        merchant_id, store_id,
    )


async def stores_of_merchant(conn: Conn, merchant_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_STORE} FROM stores WHERE merchant_id = $1 ORDER BY name, id", merchant_id)


async def stores_with_staff(conn: Conn, merchant_id: str) -> list[asyncpg.Record]:
    """The merchant's stores by name, each with how many active staff belong to it."""
    return await conn.fetch(
        """SELECT s.id, s.name, s.created_at,
                  count(u.id) FILTER (WHERE u.removed_at IS NULL) AS staff
           FROM stores s LEFT JOIN merchant_users u
                ON u.merchant_id = s.merchant_id AND u.store_id = s.id
           WHERE s.merchant_id = $1 GROUP BY s.id ORDER BY s.name, s.id""",
        merchant_id)
