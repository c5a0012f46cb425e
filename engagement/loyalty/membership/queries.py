"""SQL of paid membership: plans, memberships, purchases, monthly coupon grants."""

from __future__ import annotations

from datetime import datetime

import asyncpg

Conn = asyncpg.Connection | asyncpg.Pool
_PLAN = "id, name, price, days, discount_percent, monthly_coupon_template_id"


async def active_plans(conn: Conn, merchant_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {_PLAN} FROM membership_plans
            WHERE merchant_id = $1 AND archived_at IS NULL ORDER BY position""",
        merchant_id)


async def plan_by_id(conn: Conn, merchant_id: str, plan_id: str) -> asyncpg.Record | None:
    """Archived plans too: a running membership's terms."""
    return await conn.fetchrow(
        f"""SELECT {_PLAN}, archived_at FROM membership_plans
            WHERE merchant_id = $1 AND id = $2""",
        merchant_id, plan_id)


async def lock_plans(conn: asyncpg.Connection, merchant_id: str) -> None:
    """Two PUTs of one merchant's plans, one after the other."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('membership_plans:' || $1, 0))",
        merchant_id)


async def archive_plans(conn: asyncpg.Connection, merchant_id: str, keep: list[str],
                        now: datetime) -> None:
    await conn.execute(
        """UPDATE membership_plans SET archived_at = $3
           WHERE merchant_id = $1 AND archived_at IS NULL AND NOT (id = ANY($2::text[]))""",
        merchant_id, keep, now)


async def place_plan(conn: asyncpg.Connection, plan_id: str, position: int) -> None:
    await conn.execute("UPDATE membership_plans SET position = $2 WHERE id = $1",
                       plan_id, position)


async def insert_plan(conn: asyncpg.Connection, *, id: str, merchant_id: str, name: str,
                      price: int, days: int, discount_percent: int,
                      monthly_coupon_template_id: str | None, position: int) -> None:
    await conn.execute(
        """INSERT INTO membership_plans (id, merchant_id, name, price, days, discount_percent,
                                         monthly_coupon_template_id, position)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        id, merchant_id, name, price, days, discount_percent, monthly_coupon_template_id,
        position)


async def lock_membership(conn: asyncpg.Connection, member_id: str) -> None:
    """Purchases of one member's membership, one at a time, until the transaction ends."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('membership:' || $1, 0))", member_id)


async def membership(conn: Conn, merchant_id: str, member_id: str) -> asyncpg.Record | None:
    """The member's membership (running or ended) with its plan's terms."""
    return await conn.fetchrow(
        """SELECT s.member_id, s.plan_id, s.starts_at, s.ends_at, s.ended_at, p.name,
                  p.discount_percent, p.monthly_coupon_template_id
           FROM memberships s JOIN membership_plans p ON p.id = s.plan_id
           WHERE s.merchant_id = $1 AND s.member_id = $2""",
        merchant_id, member_id)


async def running_discount(conn: Conn, merchant_id: str, member_id: str,
                           now: datetime) -> int:
    return int(await conn.fetchval(
        """SELECT coalesce(max(p.discount_percent), 0)
           FROM memberships s JOIN membership_plans p ON p.id = s.plan_id
           WHERE s.merchant_id = $1 AND s.member_id = $2
             AND s.starts_at <= $3 AND s.ends_at > $3""",
        merchant_id, member_id, now))


async def save_membership(conn: asyncpg.Connection, *, merchant_id: str, member_id: str,
                          plan_id: str, starts_at: datetime, ends_at: datetime) -> None:
    await conn.execute(
        """INSERT INTO memberships (member_id, merchant_id, plan_id, starts_at, ends_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (member_id) DO UPDATE SET plan_id = EXCLUDED.plan_id,
               starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, ended_at = NULL""",
        member_id, merchant_id, plan_id, starts_at, ends_at)


async def insert_purchase(conn: asyncpg.Connection, *, id: str, merchant_id: str,
                          member_id: str, plan_id: str, price: int, paid_with: str,
                          renewal: bool, starts_at: datetime, ends_at: datetime,
                          balance_entry_id: str | None, staff_id: str | None,
                          now: datetime) -> None:
    await conn.execute(
        """INSERT INTO membership_purchases (id, merchant_id, member_id, plan_id, price,
               paid_with, renewal, starts_at, ends_at, balance_entry_id, staff_id, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
        id, merchant_id, member_id, plan_id, price, paid_with, renewal, starts_at, ends_at,
        balance_entry_id, staff_id, now)


async def mark_ended(conn: asyncpg.Connection, member_id: str, now: datetime) -> bool:
    """Once per membership: False when its end was published already."""
    status = await conn.execute(
        """UPDATE memberships SET ended_at = $2
           WHERE member_id = $1 AND ends_at <= $2 AND ended_at IS NULL""",
        member_id, now)
    return status.endswith(" 1")


async def end_due(conn: asyncpg.Connection, now: datetime,
                  batch: int) -> list[asyncpg.Record]:
    """Memberships that ran out and whose end was not published: marked now (a second
    worker's UPDATE waits for this one's rows and then finds them marked)."""
    return await conn.fetch(
        """UPDATE memberships SET ended_at = $1
           WHERE member_id IN (SELECT member_id FROM memberships
                               WHERE ends_at <= $1 AND ended_at IS NULL
                               ORDER BY ends_at LIMIT $2 FOR UPDATE SKIP LOCKED)
             AND ended_at IS NULL
           RETURNING merchant_id, member_id, plan_id, starts_at, ends_at""",
        now, batch)


async def merchants_owing_coupons(conn: Conn, now: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT DISTINCT m.id, m.time_zone FROM merchants m
           JOIN memberships s ON s.merchant_id = m.id
           JOIN membership_plans p ON p.id = s.plan_id
           WHERE s.starts_at <= $1 AND s.ends_at > $1
             AND p.monthly_coupon_template_id IS NOT NULL
           ORDER BY m.id""",
        now)


async def members_owed_coupon(conn: Conn, merchant_id: str, month: str,
                              now: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT s.member_id, s.plan_id, p.monthly_coupon_template_id
           FROM memberships s JOIN membership_plans p ON p.id = s.plan_id
           WHERE s.merchant_id = $1 AND s.starts_at <= $3 AND s.ends_at > $3
             AND p.monthly_coupon_template_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM membership_coupon_grants g
                             WHERE g.member_id = s.member_id AND g.month = $2)
           ORDER BY s.member_id""",
        merchant_id, month, now)


async def claim_grant(conn: asyncpg.Connection, *, merchant_id: str, member_id: str,
                      month: str, plan_id: str, now: datetime) -> bool:
    """The month's grant, or False when it exists (a concurrent claim waits for the other
    transaction on the primary key, then finds it)."""
    return bool(await conn.fetchval(
        """INSERT INTO membership_coupon_grants (member_id, month, merchant_id, plan_id,
                                                 created_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true""",
        member_id, month, merchant_id, plan_id, now))


async def set_grant_coupon(conn: asyncpg.Connection, member_id: str, month: str,
                           coupon_id: str) -> None:
    await conn.execute(
        """UPDATE membership_coupon_grants SET coupon_id = $3
           WHERE member_id = $1 AND month = $2""",
        member_id, month, coupon_id)


# --- The console's figures (figures.py) -------------------------------------------------

async def ledger_flows(conn: Conn, merchant_id: str) -> asyncpg.Record | None:
    """Stored value's money flows, all time, by kind of ledger row."""
    return await conn.fetchrow(
        """SELECT
             coalesce(sum(principal) FILTER (WHERE kind = 'top_up'), 0) AS topped_up,
             coalesce(sum(bonus) FILTER (WHERE kind = 'top_up'), 0) AS bonus_given,
             coalesce(-sum(principal + bonus)
                      FILTER (WHERE kind IN ('spend', 'membership', 'refund')), 0) AS spent,
             coalesce(-sum(principal) FILTER (WHERE kind = 'card_refund'), 0) AS card_refunded,
             coalesce(-sum(bonus) FILTER (WHERE kind IN ('card_refund', 'forfeit')), 0)
               AS bonus_forfeited
           FROM balance_ledger WHERE merchant_id = $1""",
        merchant_id)


async def balances_held(conn: Conn, merchant_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT coalesce(sum(principal), 0) AS principal, coalesce(sum(bonus), 0) AS bonus,
                  count(*) FILTER (WHERE principal + bonus > 0) AS members
           FROM balances WHERE merchant_id = $1""",
        merchant_id)


async def plan_figures(conn: Conn, merchant_id: str, now: datetime) -> list[asyncpg.Record]:
    """Each plan's purchases, renewals, revenue and running memberships; archived plans
    only when they sold."""
    return await conn.fetch(
        """SELECT p.id, p.name, p.archived_at IS NOT NULL AS archived,
                  coalesce(b.purchases, 0) AS purchases, coalesce(b.renewals, 0) AS renewals,
                  coalesce(b.revenue, 0) AS revenue, coalesce(b.cash, 0) AS cash,
                  coalesce(b.balance, 0) AS balance, coalesce(a.active, 0) AS active
           FROM membership_plans p
           LEFT JOIN (SELECT plan_id, count(*) AS purchases,
                             count(*) FILTER (WHERE renewal) AS renewals,
                             sum(price) AS revenue,
                             sum(price) FILTER (WHERE paid_with = 'cash') AS cash,
                             sum(price) FILTER (WHERE paid_with = 'balance') AS balance
                      FROM membership_purchases WHERE merchant_id = $1
                      GROUP BY plan_id) b ON b.plan_id = p.id
           LEFT JOIN (SELECT plan_id, count(*) AS active FROM memberships
                      WHERE merchant_id = $1 AND starts_at <= $2 AND ends_at > $2
                      GROUP BY plan_id) a ON a.plan_id = p.id
           WHERE p.merchant_id = $1
             AND (p.archived_at IS NULL OR b.purchases IS NOT NULL)
           ORDER BY p.archived_at IS NOT NULL, p.position, p.id""",
        merchant_id, now)
