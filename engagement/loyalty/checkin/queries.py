from __future__ import annotations

from datetime import date, datetime

import asyncpg


async def replace_program(conn: asyncpg.Connection, merchant_id: str, enabled: bool,
                          rewards: list[tuple[int, int, int]], now: datetime) -> None:
    """The program and its rewards (day, points, draws), replacing what was there."""
    await conn.execute(
        """INSERT INTO check_in_programs (merchant_id, enabled, updated_at)
           VALUES ($1, $2, $3)
           ON CONFLICT (merchant_id) DO UPDATE SET enabled = $2, updated_at = $3""",
        merchant_id, enabled, now,
    )
    await conn.execute("DELETE FROM check_in_rewards WHERE merchant_id = $1", merchant_id)
    await conn.executemany(
        """INSERT INTO check_in_rewards (merchant_id, day, points, draws)
           VALUES ($1, $2, $3, $4)""",
        [(merchant_id, *reward) for reward in rewards],
    )


async def program(conn: asyncpg.Connection | asyncpg.Pool,
                  merchant_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT enabled, updated_at FROM check_in_programs WHERE merchant_id = $1",
        merchant_id)
    return row


async def rewards(conn: asyncpg.Connection | asyncpg.Pool,
                  merchant_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT day, points, draws FROM check_in_rewards WHERE merchant_id = $1 ORDER BY day",
        merchant_id)


async def latest_check_ins(conn: asyncpg.Connection | asyncpg.Pool, member_id: str,
                           limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, day, streak, points, draws, created_at FROM check_ins
           WHERE member_id = $1 ORDER BY day DESC LIMIT $2""",
        member_id, limit,
    )


async def check_in_on(conn: asyncpg.Connection, member_id: str,
                      day: date) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT id, day, streak, points, draws, created_at FROM check_ins "
        "WHERE member_id = $1 AND day = $2", member_id, day)
    return row


async def insert_check_in(conn: asyncpg.Connection, *, id: str, merchant_id: str,
                          member_id: str, day: date, streak: int, points: int, draws: int,
                          now: datetime) -> bool:
    """False when the member already has the day's check-in: the unique
    check_ins_member_day_key lets one of any number of simultaneous inserts in (the others
    wait for it to commit, then skip)."""
    inserted = await conn.fetchval(
        """INSERT INTO check_ins (id, merchant_id, member_id, day, streak, points, draws,
                                  created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (member_id, day) DO NOTHING RETURNING true""",
        id, merchant_id, member_id, day, streak, points, draws, now,
    )
    return bool(inserted)


async def check_in_counts(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                          today: date) -> asyncpg.Record:
    """Check-ins today and over the last 7 days (today included), and how many members
    made those; members on a streak of 7 days or more today."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE day = $2) AS today,
                  count(*) AS week,
                  count(DISTINCT member_id) AS members,
                  count(*) FILTER (WHERE day = $2 AND streak >= 7) AS streaks
           FROM check_ins WHERE merchant_id = $1 AND day > $2 - 7 AND day <= $2""",
        merchant_id, today,
    )
    assert row is not None  # an aggregate always has its one row
    return row
