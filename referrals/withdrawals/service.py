"""Commission out (提现): a member asks for available commission; the merchant pays it
outside this service and records how, or rejects it and the amount is available again.

Invariant: a member's available commission (referrals.ledger.service.balance) never goes
below zero through a withdrawal. Each request takes the member's advisory lock, reads the
balance and inserts its row in one transaction, so concurrent requests queue and each sees
the ones before it. (A refund of an order whose commission was already withdrawn writes a
clawback, which can leave available below zero: the member then owes it, new commission
pays it back first, and no withdrawal is possible until available is positive again.)
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from engagement.kit.errors import NotFound
from engagement.kit.i18n import N_
from engagement.kit.ids import new_id
from referrals import queries as referral_queries
from referrals.errors import (
    BelowMinWithdrawal,
    InsufficientCommission,
    WithdrawalAlreadyPaid,
    WithdrawalAlreadyRejected,
)
from referrals.ledger import service as ledger
from referrals.withdrawals import queries
from referrals.withdrawals.schemas import PayIn, WithdrawalCreated, WithdrawalOut

# How the money left, as the member page and the console say it.
PAY_METHOD_LABELS = {"wechat": N_("微信"), "alipay": N_("支付宝"), "bank": N_("银行转账"),
                     "cash": N_("现金"), "other": N_("其他")}

# The minimum when the merchant has no program row (the column's default, migration 0018).
DEFAULT_MIN_WITHDRAWAL = 100


def withdrawal_out(row: asyncpg.Record) -> WithdrawalOut:
    return WithdrawalOut(id=row["id"], member_id=row["member_id"], amount=row["amount"],
                         status=row["status"], method=row["method"],
                         reference=row["reference"], reason=row["reason"],
                         created_at=row["created_at"], decided_at=row["decided_at"])


async def min_withdrawal(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str) -> int:
    program = await referral_queries.program(conn, merchant_id)
    return int(program["min_withdrawal"]) if program is not None else DEFAULT_MIN_WITHDRAWAL


async def request(conn: asyncpg.Connection, merchant_id: str, member_id: str, amount: int,
                  now: datetime) -> WithdrawalCreated:
    """Take ``amount`` out of the member's available commission at once. Raises
    BelowMinWithdrawal (422) or InsufficientCommission (409); either writes nothing."""
    minimum = await min_withdrawal(conn, merchant_id)
    if amount < minimum:
        raise BelowMinWithdrawal(min_withdrawal=minimum, fields=[{"field": "amount"}])
    await queries.lock_member(conn, member_id)
    available = (await ledger.balance(conn, member_id)).available
    if amount > available:
        raise InsufficientCommission(available=max(available, 0))
    row = await queries.insert(conn, id=new_id("wdr"), merchant_id=merchant_id,
                               member_id=member_id, amount=amount, now=now)
    return WithdrawalCreated(id=row["id"], amount=row["amount"], status=row["status"],
                             created_at=row["created_at"])


async def _refused(conn: asyncpg.Connection, merchant_id: str, withdrawal_id: str) -> None:
    row = await queries.by_id(conn, merchant_id, withdrawal_id)
    if row is None:
        raise NotFound("No such withdrawal.")
    if row["status"] == "paid":
        raise WithdrawalAlreadyPaid(id=withdrawal_id)
    raise WithdrawalAlreadyRejected(id=withdrawal_id)


async def pay(conn: asyncpg.Connection, merchant_id: str, withdrawal_id: str, data: PayIn,
              now: datetime) -> WithdrawalOut:
    """Record that the merchant paid the member (the money left by ``data.method``)."""
    row = await queries.decide(conn, merchant_id, withdrawal_id, status="paid",
                               method=data.method, reference=data.reference or None,
                               reason=None, now=now)
    if row is None:
        await _refused(conn, merchant_id, withdrawal_id)
    assert row is not None
    return withdrawal_out(row)


async def reject(conn: asyncpg.Connection, merchant_id: str, withdrawal_id: str,
                 reason: str | None, now: datetime) -> WithdrawalOut:
    """Refuse the request: its amount counts as available again."""
    row = await queries.decide(conn, merchant_id, withdrawal_id, status="rejected",
                               method=None, reference=None, reason=reason or None, now=now)
    if row is None:
        await _refused(conn, merchant_id, withdrawal_id)
    assert row is not None
    return withdrawal_out(row)
