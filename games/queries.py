from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

_CAMPAIGN = """id, merchant_id, name, game, status, starts_at, ends_at, per_member_per_day,
    per_member_total, entry_cost_points, rules, created_at, published_at, ended_at"""
_PRIZE = """id, campaign_id, position, name, kind, coupon_template_id, points, quantity, weight,
    reserved, released, settled, redeemed"""


async def insert_campaign(conn: asyncpg.Connection, **values: Any) -> None:
    await conn.execute(
        """INSERT INTO campaigns (id, merchant_id, name, game, starts_at, ends_at,
                                  per_member_per_day, per_member_total, entry_cost_points, rules)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        values["id"], values["merchant_id"], values["name"], values["game"], values["starts_at"],
        values["ends_at"], values["per_member_per_day"], values["per_member_total"],
        values["entry_cost_points"], values["rules"],
    )


async def insert_prizes(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    await conn.executemany(
        """INSERT INTO campaign_prizes (id, campaign_id, merchant_id, position, name, kind,
                                        coupon_template_id, points, quantity, weight)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        rows,
    )


async def campaign(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str, campaign_id: str,
                   *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {_CAMPAIGN} FROM campaigns WHERE merchant_id = $1 AND id = $2{lock}",
        merchant_id, campaign_id,
    )


async def campaign_by_id(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str,
                         *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT {_CAMPAIGN} FROM campaigns WHERE id = $1{lock}",
                               campaign_id)


async def prizes(conn: asyncpg.Connection | asyncpg.Pool,
                 campaign_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_PRIZE} FROM campaign_prizes WHERE campaign_id = $1 ORDER BY position",
        campaign_id,
    )


async def set_status(conn: asyncpg.Connection, campaign_id: str, status: str,
                     now: datetime) -> None:
    await conn.execute(
        """UPDATE campaigns SET status = $2,
             published_at = CASE WHEN $2 = 'active' THEN coalesce(published_at, $3)
                                 ELSE published_at END,
             ended_at = CASE WHEN $2 = 'ended' THEN $3 ELSE ended_at END
           WHERE id = $1""",
        campaign_id, status, now,
    )


async def update_campaign(conn: asyncpg.Connection, campaign_id: str, name: str | None,
                          ends_at: datetime | None, rules: str | None) -> None:
    await conn.execute(
        """UPDATE campaigns SET name = coalesce($2, name), ends_at = coalesce($3, ends_at),
                                rules = coalesce($4, rules)
           WHERE id = $1""",
        campaign_id, name, ends_at, rules,
    )


async def update_prize(conn: asyncpg.Connection, prize_id: str, *, name: str | None,
                       quantity: int | None, weight: int | None, reserved_delta: int) -> None:
    await conn.execute(
        """UPDATE campaign_prizes SET name = coalesce($2, name),
             quantity = coalesce($3, quantity), weight = coalesce($4, weight),
             reserved = reserved + $5
           WHERE id = $1""",
        prize_id, name, quantity, weight, reserved_delta,
    )


async def set_reserved(conn: asyncpg.Connection, prize_id: str, reserved: int) -> None:
    await conn.execute("UPDATE campaign_prizes SET reserved = $2 WHERE id = $1",
                       prize_id, reserved)


async def mark_released(conn: asyncpg.Connection, prize_id: str) -> None:
    await conn.execute("UPDATE campaign_prizes SET released = true WHERE id = $1", prize_id)


async def win_counts(conn: asyncpg.Connection | asyncpg.Pool,
                     campaign_id: str) -> dict[str, int]:
    rows = await conn.fetch(
        """SELECT prize_id, count(*) AS n FROM draws
           WHERE campaign_id = $1 AND outcome = 'win' GROUP BY prize_id""",
        campaign_id,
    )
    return {r["prize_id"]: r["n"] for r in rows}


async def draw_totals(conn: asyncpg.Connection | asyncpg.Pool,
                      campaign_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        """SELECT count(*) AS draws, count(DISTINCT member_id) AS players
           FROM draws WHERE campaign_id = $1""",
        campaign_id,
    )
    assert row is not None
    return row


async def member_draw_counts(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str,
                             days: list[date]) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT member_id, local_day, count(*) AS n FROM draws
           WHERE campaign_id = $1 AND local_day = ANY($2) GROUP BY member_id, local_day""",
        campaign_id, days,
    )


async def member_total_counts(conn: asyncpg.Connection | asyncpg.Pool,
                              campaign_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT member_id, count(*) AS n FROM draws WHERE campaign_id = $1 GROUP BY member_id",
        campaign_id,
    )


async def insert_draw(conn: asyncpg.Connection | asyncpg.Pool, *, id: str, merchant_id: str,
                      campaign_id: str, member_id: str, prize_id: str | None, outcome: str,
                      win_seq: int | None, local_day: date, points_spent: int,
                      idempotency_key: str | None, response: str, created_at: datetime) -> bool:
    """Insert a draw. A win is inserted only while its sequence number is within the prize's
    quantity (PostgreSQL's guard against oversell); False means the win was refused."""
    status = await conn.execute(
        """INSERT INTO draws (id, merchant_id, campaign_id, member_id, prize_id, outcome,
                              win_seq, local_day, points_spent, idempotency_key, response,
                              created_at)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::jsonb, $12
           WHERE $7::integer IS NULL OR EXISTS (
               SELECT 1 FROM campaign_prizes
               WHERE id = $5 AND (quantity IS NULL OR quantity >= $7))""",
        id, merchant_id, campaign_id, member_id, prize_id, outcome, win_seq, local_day,
        points_spent, idempotency_key, response, created_at,
    )
    return status.endswith(" 1")


async def lock_unsettled_wins(conn: asyncpg.Connection, campaign_id: str,
                              limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT d.id, d.merchant_id, d.member_id, d.prize_id, d.campaign_id, p.kind,
                  p.coupon_template_id, p.points, p.quantity, t.valid_days
           FROM draws d
           JOIN campaign_prizes p ON p.id = d.prize_id
           LEFT JOIN coupon_templates t ON t.id = p.coupon_template_id
           WHERE d.campaign_id = $1 AND d.outcome = 'win' AND d.settled_at IS NULL
           ORDER BY d.id LIMIT $2
           FOR UPDATE OF d SKIP LOCKED""",
        campaign_id, limit,
    )


async def mark_settled(conn: asyncpg.Connection, draw_ids: list[str], now: datetime) -> None:
    await conn.execute("UPDATE draws SET settled_at = $2 WHERE id = ANY($1)", draw_ids, now)


async def add_settled(conn: asyncpg.Connection, counts: dict[str, int]) -> None:
    """Settled wins stop being held in the prize's reservation (they are issued now)."""
    for prize_id in sorted(counts):
        await conn.execute(
            """UPDATE campaign_prizes SET settled = settled + $2,
                 reserved = reserved - CASE WHEN kind = 'coupon' AND quantity IS NOT NULL
                                            THEN $2 ELSE 0 END
               WHERE id = $1""",
            prize_id, counts[prize_id])


async def add_redeemed(conn: asyncpg.Connection, prize_id: str) -> None:
    await conn.execute("UPDATE campaign_prizes SET redeemed = redeemed + 1 WHERE id = $1",
                       prize_id)


async def unsettled_count(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str) -> int:
    # Counts only the backlog, through the partial index on unsettled wins.
    return int(await conn.fetchval(
        """SELECT count(*) FROM draws
           WHERE campaign_id = $1 AND outcome = 'win' AND settled_at IS NULL""",
        campaign_id,
    ))


async def campaigns_with_stale_wins(conn: asyncpg.Connection | asyncpg.Pool,
                                    before: datetime) -> list[str]:
    rows = await conn.fetch(
        """SELECT DISTINCT campaign_id FROM draws
           WHERE outcome = 'win' AND settled_at IS NULL AND created_at < $1""",
        before,
    )
    return [r["campaign_id"] for r in rows]


async def campaigns_past_end(conn: asyncpg.Connection | asyncpg.Pool,
                             now: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, merchant_id FROM campaigns
           WHERE status IN ('active', 'paused') AND ends_at <= $1""",
        now,
    )


async def ended_unreleased(conn: asyncpg.Connection | asyncpg.Pool,
                           ended_before: datetime) -> list[str]:
    rows = await conn.fetch(
        """SELECT DISTINCT c.id FROM campaigns c JOIN campaign_prizes p ON p.campaign_id = c.id
           WHERE c.status = 'ended' AND c.ended_at < $1 AND NOT p.released
             AND p.kind = 'coupon'""",
        ended_before,
    )
    return [r["id"] for r in rows]


async def draws_of_member(conn: asyncpg.Connection | asyncpg.Pool, member_id: str,
                          before_id: str | None, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, response FROM draws
           WHERE member_id = $1 AND ($2::text IS NULL OR id < $2)
           ORDER BY id DESC LIMIT $3""",
        member_id, before_id, limit,
    )



async def campaign_id_by_name(conn: asyncpg.Connection, merchant_id: str,
                              name: str) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT id FROM campaigns WHERE merchant_id = $1 AND name = $2 AND status <> 'ended' "
        "ORDER BY id LIMIT 1", merchant_id, name)
    return value


async def template_id_by_name(conn: asyncpg.Connection, merchant_id: str,
                              name: str) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT id FROM coupon_templates WHERE merchant_id = $1 AND name = $2 ORDER BY id LIMIT 1",
        merchant_id, name)
    return value
