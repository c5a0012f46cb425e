from __future__ import annotations

from typing import Any

import asyncpg


async def insert_entries(conn: asyncpg.Connection,
                         rows: list[tuple[Any, ...]]) -> list[asyncpg.Record]:
    """Bulk-append ledger entries; an entry whose ref exists already is skipped."""
    return await conn.fetch(
        """INSERT INTO points_ledger (id, merchant_id, member_id, delta, reason, ref, created_at,
                                      expires_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[],
                                $6::text[], $7::timestamptz[], $8::timestamptz[])
           ON CONFLICT ON CONSTRAINT points_ledger_ref_key DO NOTHING
           RETURNING member_id, delta""",
        *[list(col) for col in zip(*rows, strict=True)],
    )


async def add_to_balance(conn: asyncpg.Connection, member_id: str, delta: int) -> int | None:
    """Move the cached balance; None when it would go below zero."""
    value: int | None = await conn.fetchval(
        """UPDATE members SET points = points + $2
           WHERE id = $1 AND points + $2 >= 0 RETURNING points""",
        member_id, delta,
    )
    return value


async def balance(conn: asyncpg.Connection | asyncpg.Pool, member_id: str) -> int:
    return int(await conn.fetchval("SELECT points FROM members WHERE id = $1", member_id) or 0)


