"""SQL of campaigns as merchants manage them: create, edit, change status, list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

_CAMPAIGN = """id, merchant_id, name, game, status, starts_at, ends_at, per_member_per_day,
    per_member_total, entry_cost_points, rules, created_at, published_at, ended_at,
    chance_per_order, chance_per_check_in, chance_per_invite, pity_after, pity_prize_id,
    commitment"""


async def insert_campaign(conn: asyncpg.Connection, **values: Any) -> None:
    await conn.execute(
        """INSERT INTO campaigns (id, merchant_id, name, game, starts_at, ends_at,
                                  per_member_per_day, per_member_total, entry_cost_points, rules,
                                  chance_per_order, chance_per_check_in, chance_per_invite)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)""",
        values["id"], values["merchant_id"], values["name"], values["game"], values["starts_at"],
        values["ends_at"], values["per_member_per_day"], values["per_member_total"],
        values["entry_cost_points"], values["rules"], values["chance_per_order"],
        values["chance_per_check_in"], values["chance_per_invite"],
    )


async def set_pity(conn: asyncpg.Connection, campaign_id: str, after: int | None,
                   prize_id: str | None) -> None:
    await conn.execute(
        "UPDATE campaigns SET pity_after = $2, pity_prize_id = $3 WHERE id = $1",
        campaign_id, after, prize_id,
    )


async def insert_prizes(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    await conn.executemany(
        """INSERT INTO campaign_prizes (id, campaign_id, merchant_id, position, name, kind,
                                        coupon_template_id, points, quantity, weight)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        rows,
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


async def set_limits(conn: asyncpg.Connection, campaign_id: str, per_day: int | None,
                     total: int | None) -> None:
    await conn.execute(
        """UPDATE campaigns SET per_member_per_day = $2, per_member_total = $3
           WHERE id = $1""",
        campaign_id, per_day, total,
    )


async def set_chances(conn: asyncpg.Connection, campaign_id: str, per_order: int | None,
                      per_check_in: int | None, per_invite: int | None) -> None:
    await conn.execute(
        """UPDATE campaigns SET chance_per_order = $2, chance_per_check_in = $3,
                                chance_per_invite = $4
           WHERE id = $1""",
        campaign_id, per_order, per_check_in, per_invite,
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


async def add_redeemed(conn: asyncpg.Connection, prize_id: str, n: int = 1) -> None:
    await conn.execute("UPDATE campaign_prizes SET redeemed = redeemed + $2 WHERE id = $1",
                       prize_id, n)


async def campaigns_past_end(conn: asyncpg.Connection | asyncpg.Pool,
                             now: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT c.id, c.merchant_id, m.time_zone
           FROM campaigns c JOIN merchants m ON m.id = c.merchant_id
           WHERE c.status IN ('active', 'paused') AND c.ends_at <= $1""",
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


async def open_campaigns(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                         now: datetime, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, name, game, starts_at, ends_at FROM campaigns
           WHERE merchant_id = $1 AND status = 'active'
             AND (starts_at IS NULL OR starts_at <= $2) AND (ends_at IS NULL OR ends_at > $2)
           ORDER BY id DESC LIMIT $3""",
        merchant_id, now, limit,
    )


async def campaigns_of_merchant(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                                limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {_CAMPAIGN} FROM campaigns WHERE merchant_id = $1
            ORDER BY id DESC LIMIT $2""",
        merchant_id, limit,
    )


async def redeemed_at_store(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                            campaign_id: str, store_id: str) -> int:
    """The campaign's coupons redeemed at the store, and still redeemed (a whole refund
    gives a coupon back)."""
    n: int = await conn.fetchval(
        """SELECT count(*) FROM coupons
           WHERE campaign_id = $2 AND store_id = $3 AND status = 'redeemed'
             AND merchant_id = $1""",
        merchant_id, campaign_id, store_id,
    )
    return n
