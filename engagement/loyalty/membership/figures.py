"""The console's member-card figures (会员卡概览): stored value (topped up, spent, the
outstanding liability as principal and bonus) from the balance ledger and the running
balances, and paid membership (active members, purchases, renewals, revenue) from the
purchases. All time, as of now: a liability has no period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from engagement.loyalty.membership import queries


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
    flows = await queries.ledger_flows(conn, merchant_id)
    held = await queries.balances_held(conn, merchant_id)
    assert flows is not None and held is not None  # aggregates always return a row
    return StoredValue(**{k: int(v) for k, v in {**dict(flows), **dict(held)}.items()})


async def memberships(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                      now: datetime) -> Memberships:
    rows = await queries.plan_figures(conn, merchant_id, now)
    plans = [PlanFigures(plan_id=r["id"], name=r["name"], archived=r["archived"],
                         purchases=int(r["purchases"]), renewals=int(r["renewals"]),
                         revenue=int(r["revenue"]), active=int(r["active"])) for r in rows]
    return Memberships(
        active=sum(p.active for p in plans), purchases=sum(p.purchases for p in plans),
        renewals=sum(p.renewals for p in plans), revenue=sum(p.revenue for p in plans),
        revenue_cash=sum(int(r["cash"]) for r in rows),
        revenue_balance=sum(int(r["balance"]) for r in rows), plans=plans)
