"""Stored value (储值): a merchant's top-up plans, members' top-ups, and balances.

A balance is two parts, each the sum of an append-only ledger (balance_ledger): the
principal, money the member paid in, and the bonus a plan added (充500送50: 500 principal,
50 bonus). Every write takes the member's advisory lock, then checks its parts against the
ledger's sums in the same transaction, so that concurrent writes queue and neither part
ever goes below zero. Every ledger row is written through ``record``, which also publishes
the ``balance.changed`` webhook in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from engagement.kit.errors import NotFound
from engagement.kit.ids import new_id
from engagement.loyalty.wallet import pins, queries
from engagement.loyalty.wallet.schemas import (
    BalanceItem,
    BalanceOut,
    TopUpIn,
    TopUpOut,
    TopUpPlanOut,
    TopUpPlansIn,
    TopUpPlansOut,
)
from engagement.loyalty.webhooks import service as webhooks
from engagement.members import queries as member_queries
from engagement.orders import balance as order_balance
from engagement.stores import service as stores

# The core's error (a quote checks the balance too): 409 insufficient_balance.
InsufficientBalance = order_balance.InsufficientBalance
BALANCE_CHANGED = "balance.changed"


@dataclass(frozen=True)
class Debit:
    """One spend from a balance: the ledger row, the parts it took, what is left."""

    id: str
    principal: int  # cents of principal taken (positive)
    bonus: int  # cents of bonus taken (positive)
    balance: int  # the member's balance after it


def split(amount: int, principal: int, bonus: int,
          spend_order: Literal["principal_first", "bonus_first"]) -> tuple[int, int]:
    """(principal, bonus) to take for ``amount`` from a balance of these parts, in the
    merchant's spend order; the caller has checked that the two together cover it."""
    if spend_order == "bonus_first":
        from_bonus = min(amount, bonus)
        return amount - from_bonus, from_bonus
    from_principal = min(amount, principal)
    return from_principal, amount - from_principal


async def debit(conn: asyncpg.Connection, merchant_id: str, member_id: str, amount: int, *,
                kind: Literal["spend", "membership"], now: datetime,
                order_id: str | None = None, store_id: str | None = None,
                staff_id: str | None = None) -> Debit:
    """Take ``amount`` cents (> 0) from the member's balance, in the merchant's spend order,
    as one ledger row of ``kind``; 409 ``insufficient_balance`` when it does not cover it.
    Runs inside the caller's transaction (an order's, a membership's), which it must be in
    for the member's lock to hold until the caller commits."""
    assert amount > 0
    await queries.lock_member(conn, member_id)
    principal, bonus = await queries.totals(conn, member_id)
    if principal + bonus < amount:
        raise InsufficientBalance(balance=principal + bonus)
    program = await queries.program(conn, merchant_id)
    take_principal, take_bonus = split(
        amount, principal, bonus, program["spend_order"] if program else "principal_first")
    entry_id, after = await record(conn, merchant_id=merchant_id, member_id=member_id,
                                   kind=kind, principal=-take_principal, bonus=-take_bonus,
                                   order_id=order_id, store_id=store_id, staff_id=staff_id,
                                   now=now)
    return Debit(id=entry_id, principal=take_principal, bonus=take_bonus, balance=after)


async def record(conn: asyncpg.Connection, *, merchant_id: str, member_id: str, kind: str,
                 principal: int, bonus: int, now: datetime, order_id: str | None = None,
                 store_id: str | None = None, staff_id: str | None = None,
                 payment_method: str | None = None,
                 refund_id: str | None = None) -> tuple[str, int]:
    """One ledger row, under the member's lock the caller holds, and its balance.changed
    webhook; (the row's id, the balance after it)."""
    entry_id = new_id("bal")
    await queries.insert_entry(conn, id=entry_id, merchant_id=merchant_id, member_id=member_id,
                               kind=kind, principal=principal, bonus=bonus, order_id=order_id,
                               store_id=store_id, staff_id=staff_id, now=now,
                               payment_method=payment_method, refund_id=refund_id)
    total_principal, total_bonus = await queries.totals(conn, member_id)
    await webhooks.publish(conn, merchant_id, BALANCE_CHANGED, {
        "member_id": member_id, "entry_id": entry_id, "kind": kind,
        "delta": principal + bonus, "principal": total_principal, "bonus": total_bonus,
        "balance": total_principal + total_bonus, "order_id": order_id}, now)
    return entry_id, total_principal + total_bonus


async def get_program(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str) -> TopUpPlansOut:
    row = await queries.program(conn, merchant_id)
    return TopUpPlansOut(
        plans=[TopUpPlanOut(id=p["id"], pay=p["pay"], bonus=p["bonus"])
               for p in await queries.plans(conn, merchant_id)],
        spend_order=row["spend_order"] if row else "principal_first")


async def set_program(conn: asyncpg.Connection, merchant_id: str, data: TopUpPlansIn,
                      now: datetime) -> TopUpPlansOut:
    """Replace the plans (a PUT): members' balances are not touched."""
    await queries.replace_program(conn, merchant_id, data.spend_order,
                                  [(new_id("tup"), p.pay, p.bonus) for p in data.plans], now)
    return await get_program(conn, merchant_id)


async def require_member(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                          member_id: str) -> None:
    if await member_queries.member_by_id(conn, merchant_id, member_id) is None:
        raise NotFound("No such member.")


async def top_up(conn: asyncpg.Connection, merchant_id: str, member_id: str, data: TopUpIn,
                 now: datetime, staff_id: str | None = None) -> TopUpOut:
    """Credit ``data.pay`` as principal and the best plan's bonus beside it."""
    await require_member(conn, merchant_id, member_id)
    if data.store_id is not None:
        await stores.require_store(conn, merchant_id, data.store_id)
    bonus = await queries.best_bonus(conn, merchant_id, data.pay)
    await queries.lock_member(conn, member_id)
    entry_id, after = await record(conn, merchant_id=merchant_id, member_id=member_id,
                                   kind="top_up", principal=data.pay, bonus=bonus,
                                   store_id=data.store_id, staff_id=staff_id, now=now,
                                   payment_method=data.payment_method)
    return TopUpOut(id=entry_id, principal=data.pay, bonus=bonus, balance=after)


async def balance(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str, member_id: str,
                  cursor: str | None, limit: int, now: datetime) -> BalanceOut:
    await require_member(conn, merchant_id, member_id)
    pin_set, locked_until = await pins.pin_state(conn, member_id, now)
    principal, bonus = await queries.totals(conn, member_id)
    rows = await queries.entries(conn, member_id, cursor, limit)
    items = [BalanceItem(id=r["id"], delta=r["principal"] + r["bonus"], principal=r["principal"],
                         bonus=r["bonus"], kind=r["kind"], order_id=r["order_id"],
                         payment_method=r["payment_method"], created_at=r["created_at"])
             for r in rows]
    return BalanceOut(balance=principal + bonus, principal=principal, bonus=bonus, items=items,
                      next_cursor=rows[-1]["id"] if len(rows) == limit else None,
                      pin_set=pin_set, pin_locked_until=locked_until)
