from __future__ import annotations

from datetime import datetime

import asyncpg

Conn = asyncpg.Connection | asyncpg.Pool

_ROW = """w.id, w.merchant_id, w.member_id, w.amount, w.status, w.method, w.reference,
    w.reason, w.created_at, w.decided_at"""


async def lock_member(conn: asyncpg.Connection, member_id: str) -> None:
    """Serialise the withdrawals of one member until the transaction ends: the balance read
    after it counts every request committed before, so two requests cannot both spend the
    same available commission."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('commission_withdrawals:' || $1, 0))",
        member_id)


async def insert(conn: asyncpg.Connection, *, id: str, merchant_id: str, member_id: str,
                 amount: int, now: datetime) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""INSERT INTO commission_withdrawals AS w (id, merchant_id, member_id, amount, status,
                                                     created_at)
            VALUES ($1, $2, $3, $4, 'requested', $5) RETURNING {_ROW}""",
        id, merchant_id, member_id, amount, now,
    )
    assert row is not None
    return row


async def decide(conn: asyncpg.Connection, merchant_id: str, withdrawal_id: str, *,
                 status: str, method: str | None, reference: str | None, reason: str | None,
                 now: datetime) -> asyncpg.Record | None:
    """Pay or reject a requested withdrawal; None when it is not (or no longer) requested.
    One conditional update: of two verdicts at once, exactly one lands."""
    return await conn.fetchrow(
        f"""UPDATE commission_withdrawals AS w
            SET status = $3, method = $4, reference = $5, reason = $6, decided_at = $7
            WHERE merchant_id = $1 AND id = $2 AND status = 'requested'
            RETURNING {_ROW}""",
        merchant_id, withdrawal_id, status, method, reference, reason, now,
    )


async def by_id(conn: Conn, merchant_id: str, withdrawal_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_ROW} FROM commission_withdrawals w WHERE merchant_id = $1 AND id = $2",
        merchant_id, withdrawal_id)


async def of_merchant(conn: Conn, merchant_id: str, status: str | None, before: str | None,
                      limit: int) -> list[asyncpg.Record]:
    """Newest first, with the member's name and phone for the console."""
    return await conn.fetch(
        f"""SELECT {_ROW}, m.name AS member_name, m.phone AS member_phone,
                   m.external_id AS member_external_id
            FROM commission_withdrawals w JOIN members m ON m.id = w.member_id
            WHERE w.merchant_id = $1 AND ($2::text IS NULL OR w.status = $2)
              AND ($3::text IS NULL OR w.id < $3)
            ORDER BY w.id DESC LIMIT $4""",
        merchant_id, status, before, limit,
    )


async def of_member(conn: Conn, member_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {_ROW} FROM commission_withdrawals w WHERE member_id = $1
            ORDER BY id DESC LIMIT $2""",
        member_id, limit,
    )


async def counts(conn: Conn, merchant_id: str) -> dict[str, int]:
    rows = await conn.fetch(
        """SELECT status, count(*) AS n FROM commission_withdrawals WHERE merchant_id = $1
           GROUP BY status""", merchant_id)
    return {r["status"]: int(r["n"]) for r in rows}
