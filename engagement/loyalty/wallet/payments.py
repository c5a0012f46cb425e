"""Stored value meets orders: the ``BalancePayments`` port the core calls for an order paid
partly from the balance (engagement/orders/balance.py), the refund of such an order, and
退卡, the merchant paying the unspent principal back.

A refund returns its share of the balance part (the core works out ``to_balance``: the
refunds give the balance back in the proportion the order was paid from it), as one
``refund`` row that restores principal and bonus in the proportion the order took them,
counted on the running totals of the order's rows: however many refunds, never more of
either part than the order took."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from engagement.kit import hooks
from engagement.kit.errors import Conflict
from engagement.loyalty.wallet import pins, queries
from engagement.loyalty.wallet.schemas import CardRefundOut
from engagement.loyalty.wallet.service import debit, record, require_member
from engagement.orders.balance import BalancePayments


class RefundExceedsBalancePart(Conflict):
    code = "refund_exceeds_balance_part"
    message = "The refunds would return more to the balance than the order took from it."


async def take(conn: asyncpg.Connection, merchant_id: str, member_id: str, amount: int, *,
               order_id: str, store_id: str | None, staff_id: str | None,
               now: datetime) -> None:
    await debit(conn, merchant_id, member_id, amount, kind="spend", now=now,
                order_id=order_id, store_id=store_id, staff_id=staff_id)


async def available(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                    member_id: str) -> int:
    principal, bonus = await queries.totals(conn, member_id)
    return principal + bonus


PORT = BalancePayments(authorize=pins.authorize, take=take, available=available)


async def on_order_refunded(conn: asyncpg.Connection, event: hooks.OrderRefunded) -> None:
    """Listener of OrderRefunded: ``event.to_balance`` back to the balance, once per refund."""
    if event.to_balance <= 0:
        return
    await queries.lock_member(conn, event.member_id)
    if await queries.refund_recorded(conn, event.refund_id):
        return
    moves = await queries.order_moves(conn, event.merchant_id, event.member_id,
                                      event.order_id)
    spent_principal, spent_bonus = (-v for v in moves.get("spend", (0, 0)))
    back_principal, back_bonus = moves.get("refund", (0, 0))
    spent = spent_principal + spent_bonus
    back = back_principal + back_bonus + event.to_balance
    if back > spent:
        raise RefundExceedsBalancePart(order_id=event.order_id, spent=spent)
    principal = spent_principal * back // spent - back_principal
    await record(conn, merchant_id=event.merchant_id, member_id=event.member_id,
                 kind="refund", principal=principal, bonus=event.to_balance - principal,
                 order_id=event.order_id, refund_id=event.refund_id, now=event.created_at)


async def card_refund(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                      now: datetime, *, staff_id: str | None = None) -> CardRefundOut:
    """退卡: pay back exactly the unspent principal (a ``card_refund`` row) and forfeit the
    unspent bonus (a ``forfeit`` row); the balance is 0 afterwards. Again, on an empty
    balance, it refunds 0 and writes nothing."""
    await require_member(conn, merchant_id, member_id)
    await queries.lock_member(conn, member_id)
    principal, bonus = await queries.totals(conn, member_id)
    if principal:
        await record(conn, merchant_id=merchant_id, member_id=member_id, kind="card_refund",
                     principal=-principal, bonus=0, staff_id=staff_id, now=now)
    if bonus:
        await record(conn, merchant_id=merchant_id, member_id=member_id, kind="forfeit",
                     principal=0, bonus=-bonus, staff_id=staff_id, now=now)
    return CardRefundOut(refunded=principal, forfeited=bonus)
