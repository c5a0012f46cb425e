from __future__ import annotations

from datetime import datetime
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




async def upsert_program(conn: asyncpg.Connection, merchant_id: str, *, per_amount: int,
                         points: int, join_bonus: int, expiry_days: int | None,
                         value_points: int | None, value_cents: int | None,
                         now: datetime) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(
        """INSERT INTO points_programs (merchant_id, earn_per_amount, earn_points, join_bonus,
                                        expiry_days, point_value_points, point_value_cents,
                                        updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (merchant_id) DO UPDATE SET
               earn_per_amount = EXCLUDED.earn_per_amount, earn_points = EXCLUDED.earn_points,
               join_bonus = EXCLUDED.join_bonus, expiry_days = EXCLUDED.expiry_days,
               point_value_points = EXCLUDED.point_value_points,
               point_value_cents = EXCLUDED.point_value_cents,
               updated_at = EXCLUDED.updated_at
           RETURNING *""",
        merchant_id, per_amount, points, join_bonus, expiry_days, value_points, value_cents,
        now,
    )
    assert row is not None
    return row


async def program(conn: asyncpg.Connection | asyncpg.Pool,
                  merchant_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM points_programs WHERE merchant_id = $1", merchant_id)
    return row


async def entry_by_ref(conn: asyncpg.Connection, merchant_id: str,
                       ref: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM points_ledger WHERE merchant_id = $1 AND ref = $2", merchant_id, ref)
    return row


async def entries_of_member(conn: asyncpg.Connection | asyncpg.Pool, member_id: str,
                            cursor: str | None, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, delta, reason, created_at, expires_at FROM points_ledger
           WHERE member_id = $1 AND ($2::text IS NULL OR id < $2)
           ORDER BY id DESC LIMIT $3""",
        member_id, cursor, limit,
    )


async def lock_member(conn: asyncpg.Connection, member_id: str) -> int | None:
    """Lock the member's row (its balance) for an expiry computation; None if gone."""
    value: int | None = await conn.fetchval(
        "SELECT points FROM members WHERE id = $1 FOR UPDATE", member_id)
    return value


async def members_with_due_credits(conn: asyncpg.Connection, now: datetime,
                                   after: str | None, limit: int) -> list[str]:
    """Members holding a credit past its expiry that has no expiry entry yet."""
    rows = await conn.fetch(
        """SELECT DISTINCT l.member_id FROM points_ledger l
           WHERE l.delta > 0 AND l.expires_at IS NOT NULL AND l.expires_at <= $1
             AND ($2::text IS NULL OR l.member_id > $2)
             AND NOT EXISTS (SELECT 1 FROM points_expirations x WHERE x.entry_id = l.id)
           ORDER BY l.member_id LIMIT $3""",
        now, after, limit,
    )
    return [r["member_id"] for r in rows]


async def settled_expirations(conn: asyncpg.Connection, member_id: str) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT entry_id, amount FROM points_expirations WHERE member_id = $1", member_id)
    return {r["entry_id"]: r["amount"] for r in rows}


async def insert_expirations(conn: asyncpg.Connection, member_id: str,
                             settled: list[tuple[str, int]], now: datetime) -> None:
    await conn.executemany(
        """INSERT INTO points_expirations (entry_id, member_id, amount, settled_at)
           VALUES ($1, $2, $3, $4)""",
        [(entry_id, member_id, amount, now) for entry_id, amount in settled],
    )


async def all_entries_of_member(conn: asyncpg.Connection, member_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, merchant_id, delta, reason, ref, created_at, expires_at FROM points_ledger
           WHERE member_id = $1 ORDER BY id""",
        member_id,
    )


async def claim_idempotency_key(conn: asyncpg.Connection, merchant_id: str, scope: str,
                                key: str, request_hash: str,
                                now: datetime) -> asyncpg.Record | None:
    """Claim a key for this request; None when claimed before (the caller replays). A
    concurrent twin blocks here until the first transaction ends."""
    inserted = await conn.fetchval(
        """INSERT INTO idempotent_responses (merchant_id, scope, key, request_hash, created_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true""",
        merchant_id, scope, key, request_hash, now,
    )
    if inserted:
        return None
    row: asyncpg.Record | None = await conn.fetchrow(
        """SELECT request_hash, status, response FROM idempotent_responses
           WHERE merchant_id = $1 AND scope = $2 AND key = $3""",
        merchant_id, scope, key,
    )
    return row


async def store_idempotent_response(conn: asyncpg.Connection, merchant_id: str, scope: str,
                                    key: str, status: int, response: Any) -> None:
    await conn.execute(
        """UPDATE idempotent_responses SET status = $4, response = $5
           WHERE merchant_id = $1 AND scope = $2 AND key = $3""",
        merchant_id, scope, key, status, response,
    )


async def delete_idempotent_responses_before(conn: asyncpg.Connection, before: datetime) -> int:
    result: str = await conn.execute(
        "DELETE FROM idempotent_responses WHERE created_at < $1", before)
    return int(result.split()[-1])


async def points_of_member(conn: asyncpg.Connection | asyncpg.Pool, member_id: str,
                           limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, delta, reason, created_at, expires_at FROM points_ledger
           WHERE member_id = $1 ORDER BY id DESC LIMIT $2""",
        member_id, limit,
    )
