from __future__ import annotations

from datetime import datetime

import asyncpg

_REWARD = """r.id, r.coupon_template_id, t.name, t.discount, t.min_spend, r.cost_points,
             r.stock, r.redeemed, r.stock - r.redeemed AS available, r.active,
             r.created_at"""


async def insert_reward(conn: asyncpg.Connection, *, id: str, merchant_id: str,
                        template_id: str, cost_points: int, stock: int,
                        now: datetime) -> None:
    await conn.execute(
        """INSERT INTO rewards (id, merchant_id, coupon_template_id, cost_points, stock,
                                created_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        id, merchant_id, template_id, cost_points, stock, now,
    )


async def reward_by_id(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                       reward_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""SELECT {_REWARD} FROM rewards r JOIN coupon_templates t ON t.id = r.coupon_template_id
            WHERE r.merchant_id = $1 AND r.id = $2 AND r.active""",
        merchant_id, reward_id,
    )
    return row


async def rewards_of_merchant(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                              cursor: str | None, limit: int,
                              include_inactive: bool = False) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {_REWARD} FROM rewards r JOIN coupon_templates t ON t.id = r.coupon_template_id
            WHERE r.merchant_id = $1 AND (r.active OR $4) AND ($2::text IS NULL OR r.id < $2)
            ORDER BY r.id DESC LIMIT $3""",
        merchant_id, cursor, limit, include_inactive,
    )


async def set_active(conn: asyncpg.Connection, merchant_id: str, reward_id: str,
                     active: bool) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""WITH r AS (UPDATE rewards SET active = $3 WHERE merchant_id = $1 AND id = $2
                       RETURNING *)
            SELECT {_REWARD} FROM r JOIN coupon_templates t ON t.id = r.coupon_template_id""",
        merchant_id, reward_id, active,
    )
    return row


async def take_one(conn: asyncpg.Connection, merchant_id: str,
                   reward_id: str) -> asyncpg.Record | None:
    """Count one redemption, locking the reward's row; the CHECK
    rewards_redeemed_within_stock refuses the one past the stock."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """UPDATE rewards SET redeemed = redeemed + 1
           WHERE merchant_id = $1 AND id = $2 AND active
           RETURNING id, coupon_template_id, cost_points""",
        merchant_id, reward_id,
    )
    return row


async def insert_redemption(conn: asyncpg.Connection, *, id: str, merchant_id: str,
                            reward_id: str, member_id: str, coupon_id: str,
                            points_spent: int, now: datetime) -> None:
    await conn.execute(
        """INSERT INTO reward_redemptions (id, merchant_id, reward_id, member_id, coupon_id,
                                           points_spent, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        id, merchant_id, reward_id, member_id, coupon_id, points_spent, now,
    )


async def redemption_of_member(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                               member_id: str, redemption_id: str) -> asyncpg.Record | None:
    """One of the member's redemptions with the coupon it gave (the mall page shows it)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """SELECT d.id, d.reward_id, d.points_spent, d.created_at, c.code, c.status,
                  c.expires_at, t.name, t.discount, t.min_spend
           FROM reward_redemptions d JOIN coupons c ON c.id = d.coupon_id
                JOIN coupon_templates t ON t.id = c.template_id
           WHERE d.merchant_id = $1 AND d.member_id = $2 AND d.id = $3""",
        merchant_id, member_id, redemption_id,
    )
    return row
