"""The console's member-card figures (会员卡概览): stored value (topped up, spent, the
outstanding liability as principal and bonus) from the balance ledger and the running
balances, and paid membership (active members, purchases, renewals, revenue) from the
purchases. All time, as of now: a liability has no period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class StoredValue:
    topped_up: int  # principal paid in by top-ups
    bonus_given: int  # bonus the plans added
    spent: int  # taken by orders and memberships, less what refunds gave back
    card_refunded: int  # principal paid back by 退卡
    bonus_forfeited: int  # bonus dropped by 退卡
    principal: int  # outstanding: still owed to members
    bonus: int
    members: int  # members with a balance above zero


@dataclass(frozen=True)
class PlanFigures:
    plan_id: str
    name: str
    archived: bool
    purchases: int
    renewals: int
    revenue: int
    active: int


@dataclass(frozen=True)
class Memberships:
    active: int
    purchases: int
    renewals: int
    revenue: int
    revenue_cash: int
    revenue_balance: int
    plans: list[PlanFigures]


async def stored_value(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str) -> StoredValue:
    flows = await conn.fetchrow(
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
    held = await conn.fetchrow(
        """SELECT coalesce(sum(principal), 0) AS principal, coalesce(sum(bonus), 0) AS bonus,
                  count(*) FILTER (WHERE principal + bonus > 0) AS members
           FROM balances WHERE merchant_id = $1""",
        merchant_id)
    assert flows is not None and held is not None  # aggregates always return a row
    return StoredValue(**{k: int(v) for k, v in {**dict(flows), **dict(held)}.items()})


async def memberships(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                      now: datetime) -> Memberships:
    rows = await conn.fetch(
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
    plans = [PlanFigures(plan_id=r["id"], name=r["name"], archived=r["archived"],
                         purchases=int(r["purchases"]), renewals=int(r["renewals"]),
                         revenue=int(r["revenue"]), active=int(r["active"])) for r in rows]
    return Memberships(
        active=sum(p.active for p in plans), purchases=sum(p.purchases for p in plans),
        renewals=sum(p.renewals for p in plans), revenue=sum(p.revenue for p in plans),
        revenue_cash=sum(int(r["cash"]) for r in rows),
        revenue_balance=sum(int(r["balance"]) for r in rows), plans=plans)
