"""SQL of stored value: the top-up program and plans, the balance ledger."""

from __future__ import annotations

from datetime import datetime

import asyncpg

Conn = asyncpg.Connection | asyncpg.Pool


async def program(conn: Conn, merchant_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT spend_order FROM top_up_programs WHERE merchant_id = $1", merchant_id)


async def plans(conn: Conn, merchant_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, pay, bonus FROM top_up_plans WHERE merchant_id = $1 ORDER BY pay",
        merchant_id)


async def replace_program(conn: asyncpg.Connection, merchant_id: str, spend_order: str,
                          plans: list[tuple[str, int, int]], now: datetime) -> None:
    await conn.execute(
        """INSERT INTO top_up_programs (merchant_id, spend_order, updated_at) VALUES ($1, $2, $3)
           ON CONFLICT (merchant_id) DO UPDATE SET spend_order = EXCLUDED.spend_order,
               updated_at = EXCLUDED.updated_at""",
        merchant_id, spend_order, now)
    await conn.execute("DELETE FROM top_up_plans WHERE merchant_id = $1", merchant_id)
    await conn.executemany(
        "INSERT INTO top_up_plans (id, merchant_id, pay, bonus) VALUES ($1, $2, $3, $4)",
        [(plan_id, merchant_id, pay, bonus) for plan_id, pay, bonus in plans])


async def best_bonus(conn: Conn, merchant_id: str, pay: int) -> int:
    """The bonus of the best plan whose pay is at most ``pay`` (0 without one)."""
    return int(await conn.fetchval(
        """SELECT coalesce(max(bonus), 0) FROM top_up_plans
           WHERE merchant_id = $1 AND pay <= $2""",
        merchant_id, pay))


async def lock_member(conn: asyncpg.Connection, member_id: str) -> None:
    """Balance writes of one member, one at a time, until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('balance:' || $1, 0))",
                       member_id)


async def totals(conn: Conn, member_id: str) -> tuple[int, int]:
    """(principal, bonus): the ledger's sums, as its trigger keeps them in balances."""
    row = await conn.fetchrow(
        "SELECT principal, bonus FROM balances WHERE member_id = $1", member_id)
    return (int(row["principal"]), int(row["bonus"])) if row else (0, 0)


async def insert_entry(conn: asyncpg.Connection, *, id: str, merchant_id: str, member_id: str,
                       kind: str, principal: int, bonus: int, order_id: str | None,
                       store_id: str | None, staff_id: str | None, now: datetime,
                       payment_method: str | None = None,
                       refund_id: str | None = None) -> None:
    await conn.execute(
        """INSERT INTO balance_ledger (id, merchant_id, member_id, kind, principal, bonus,
                                       order_id, store_id, staff_id, created_at,
                                       payment_method, refund_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
        id, merchant_id, member_id, kind, principal, bonus, order_id, store_id, staff_id, now,
        payment_method, refund_id)


async def order_moves(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                      order_id: str) -> dict[str, tuple[int, int]]:
    """kind -> (principal, bonus) summed over the member's rows of one order."""
    rows = await conn.fetch(
        """SELECT kind, sum(principal) AS p, sum(bonus) AS b FROM balance_ledger
           WHERE merchant_id = $1 AND order_id = $2 AND member_id = $3 GROUP BY kind""",
        merchant_id, order_id, member_id)
    return {r["kind"]: (int(r["p"]), int(r["b"])) for r in rows}


async def refund_recorded(conn: asyncpg.Connection, refund_id: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM balance_ledger WHERE refund_id = $1)", refund_id))


async def entries(conn: Conn, member_id: str, cursor: str | None,
                  limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, kind, principal, bonus, order_id, payment_method, created_at
           FROM balance_ledger
           WHERE member_id = $1 AND ($2::text IS NULL OR id < $2)
           ORDER BY id DESC LIMIT $3""",
        member_id, cursor, limit)


# --- Payment PINs (pins.py) ---------------------------------------------------------------

async def ensure_pin_row(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                         now: datetime) -> None:
    await conn.execute(
        """INSERT INTO balance_pins (member_id, merchant_id, updated_at)
           VALUES ($1, $2, $3) ON CONFLICT (member_id) DO NOTHING""",
        member_id, merchant_id, now)


async def locked_pin(conn: asyncpg.Connection, merchant_id: str,
                     member_id: str) -> asyncpg.Record | None:
    """The member's PIN row, locked until the transaction ends: checks of one member queue."""
    return await conn.fetchrow(
        """SELECT pin_hash, failures, locked_until FROM balance_pins
           WHERE member_id = $1 AND merchant_id = $2 FOR UPDATE""", member_id, merchant_id)


async def update_pin(conn: asyncpg.Connection, member_id: str, *, failures: int,
                     locked_until: datetime | None, now: datetime,
                     pin_hash: str | None = None) -> None:
    """The count and lock; with ``pin_hash``, a new PIN as well."""
    await conn.execute(
        """UPDATE balance_pins SET failures = $2, locked_until = $3, updated_at = $4,
               pin_hash = coalesce($5, pin_hash)
           WHERE member_id = $1""",
        member_id, failures, locked_until, now, pin_hash)


async def clear_pin(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                    now: datetime) -> None:
    await conn.execute(
        """UPDATE balance_pins SET pin_hash = NULL, failures = 0, locked_until = NULL,
               updated_at = $3 WHERE member_id = $1 AND merchant_id = $2""",
        member_id, merchant_id, now)


async def pin_row(conn: Conn, member_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT pin_hash, locked_until FROM balance_pins WHERE member_id = $1", member_id)
