from __future__ import annotations

from datetime import datetime

import asyncpg


async def replace_tiers(conn: asyncpg.Connection, merchant_id: str,
                        rows: list[tuple[int, str, int | None, int | None, int, str | None]]
                        ) -> None:
    await conn.execute("DELETE FROM tiers WHERE merchant_id = $1", merchant_id)
    await conn.executemany(
        """INSERT INTO tiers (merchant_id, rank, name, min_points, min_spend, window_days,
                              monthly_coupon_template_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [(merchant_id, *row) for row in rows],
    )


async def tiers_of(conn: asyncpg.Connection | asyncpg.Pool,
                   merchant_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM tiers WHERE merchant_id = $1 ORDER BY rank", merchant_id)


async def merchants_with_tiers(conn: asyncpg.Connection | asyncpg.Pool) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, time_zone FROM merchants m
           WHERE EXISTS (SELECT 1 FROM tiers t WHERE t.merchant_id = m.id) ORDER BY id""")


async def tier_moves(conn: asyncpg.Connection, merchant_id: str,
                     now: datetime) -> list[asyncpg.Record]:
    """Members whose qualifying tier (the highest whose threshold they meet over its
    window: points earned, or spend net of refunds) differs from their current one."""
    return await conn.fetch(
        """SELECT id AS member_id, tier AS from_tier, to_tier FROM (
             SELECT m.id, m.tier, (
               SELECT t.name FROM tiers t
               WHERE t.merchant_id = m.merchant_id AND (
                 (t.min_points IS NOT NULL AND t.min_points <= (
                    SELECT coalesce(sum(l.delta), 0) FROM points_ledger l
                    WHERE l.member_id = m.id AND l.delta > 0
                      AND l.created_at > $2::timestamptz - make_interval(days => t.window_days)))
                 OR (t.min_spend IS NOT NULL AND t.min_spend <= (
                    SELECT coalesce(sum(o.amount - o.refunded), 0) FROM orders o
                    WHERE o.member_id = m.id
                      AND o.created_at > $2::timestamptz - make_interval(days => t.window_days))))
               ORDER BY t.rank DESC LIMIT 1) AS to_tier
             FROM members m WHERE m.merchant_id = $1) q
           WHERE to_tier IS DISTINCT FROM tier
           ORDER BY id""",
        merchant_id, now,
    )


async def apply_moves(conn: asyncpg.Connection, merchant_id: str,
                      moves: list[tuple[str, str, str | None, str | None]],
                      now: datetime) -> None:
    await conn.execute(
        """UPDATE members m SET tier = v.to_tier
           FROM unnest($1::text[], $2::text[]) AS v(member_id, to_tier)
           WHERE m.id = v.member_id AND m.merchant_id = $3""",
        [m[1] for m in moves], [m[3] for m in moves], merchant_id,
    )
    await conn.executemany(
        """INSERT INTO tier_changes (id, merchant_id, member_id, from_tier, to_tier, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [(change_id, merchant_id, member_id, from_tier, to_tier, now)
         for change_id, member_id, from_tier, to_tier in moves],
    )


async def members_owed_monthly_coupon(conn: asyncpg.Connection, merchant_id: str,
                                      month: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT m.id AS member_id, t.name AS tier, t.monthly_coupon_template_id
           FROM members m JOIN tiers t ON t.merchant_id = m.merchant_id AND t.name = m.tier
           WHERE m.merchant_id = $1 AND t.monthly_coupon_template_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM tier_benefit_grants g
                             WHERE g.member_id = m.id AND g.month = $2)
           ORDER BY m.id""",
        merchant_id, month,
    )


async def claim_grant(conn: asyncpg.Connection, merchant_id: str, member_id: str, month: str,
                      tier: str, now: datetime) -> bool:
    claimed = await conn.fetchval(
        """INSERT INTO tier_benefit_grants (merchant_id, member_id, month, tier, created_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true""",
        merchant_id, member_id, month, tier, now,
    )
    return bool(claimed)


async def set_grant_coupon(conn: asyncpg.Connection, member_id: str, month: str,
                           coupon_id: str) -> None:
    await conn.execute(
        "UPDATE tier_benefit_grants SET coupon_id = $3 WHERE member_id = $1 AND month = $2",
        member_id, month, coupon_id,
    )


async def standing_of_member(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                             member_id: str, now: datetime) -> list[asyncpg.Record]:
    """Each tier, lowest first, with the member's number against its threshold: points
    earned, or spend net of refunds, over the tier's window (as tier_moves counts them)."""
    return await conn.fetch(
        """SELECT t.rank, t.name, t.min_points, t.min_spend, t.window_days,
                  CASE WHEN t.min_points IS NOT NULL THEN (
                    SELECT coalesce(sum(l.delta), 0) FROM points_ledger l
                    WHERE l.member_id = $2 AND l.delta > 0
                      AND l.created_at > $3::timestamptz - make_interval(days => t.window_days))
                  ELSE (
                    SELECT coalesce(sum(o.amount - o.refunded), 0) FROM orders o
                    WHERE o.member_id = $2
                      AND o.created_at > $3::timestamptz - make_interval(days => t.window_days))
                  END AS reached
           FROM tiers t WHERE t.merchant_id = $1 ORDER BY t.rank""",
        merchant_id, member_id, now,
    )
