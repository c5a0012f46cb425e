"""The commission ledger: accrue on an order, reverse on a refund, release after the hold.

Rounding, the one rule everything follows (rate in basis points, amounts in cents):

    commission(paid, rate) = floor(paid * rate / 10000)

An accrual is ``commission(paid, rate)``. A refund taking the refunded total from ``before``
to ``after`` writes ``commission(paid - before, rate) - commission(paid - after, rate)`` as a
negative entry: a reversal while the accrual is held or pending, a clawback once it is
available. The sum telescopes, so after any refunds, in any number of parts,

    net per (order, beneficiary, level) = floor((paid - refunded) * rate / 10000)

exactly, never below zero, and never more than the exact share (the merchant keeps the
fractions of a cent). Entries are unique per (order, beneficiary, level, cause), so a job
retry or a duplicate event writes nothing twice (invariant 3).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from engagement.kit import hooks
from engagement.kit.ids import new_id
from engagement.merchants import queries as merchant_queries
from referrals import queries as referral_queries
from referrals.ledger import queries
from referrals.ledger.queries import EntryRow
from referrals.phones import same_phone
from referrals.schemas import MAX_LEVELS, Balance

BP = 10_000


def commission(paid: int, rate_bp: int) -> int:
    return paid * rate_bp // BP


def reversal(paid: int, refunded_before: int, refund: int, rate_bp: int) -> int:
    """How much one refund takes back (a non-negative number of cents)."""
    return (commission(paid - refunded_before, rate_bp)
            - commission(paid - refunded_before - refund, rate_bp))


def edge_states(upline: list[asyncpg.Record]) -> list[tuple[asyncpg.Record, str, str | None]]:
    """Each beneficiary up the chain with the status its accrual starts in: pending, or held
    (by the member whose binding awaits review) when a binding on the way is held. Nothing
    flows across a rejected binding, nor above it."""
    out: list[tuple[asyncpg.Record, str, str | None]] = []
    status, held_by = "pending", None
    for step in upline:
        if step["edge_status"] == "rejected":
            break
        if step["edge_status"] == "held" and held_by is None:
            status, held_by = "held", step["via"]
        out.append((step, status, held_by))
    return out


async def accrue(conn: asyncpg.Connection, order: hooks.OrderPaid) -> int:
    """Listener of OrderPaid: write the order's accruals once. Returns entries written."""
    merchant_id, order_id = order.merchant_id, order.order_id
    buyer = await referral_queries.member_brief(conn, order.member_id)
    if buyer is None:
        return 0
    upline = await referral_queries.upline(conn, buyer["id"], MAX_LEVELS)
    if not upline:
        return 0
    first_order = await queries.record_first_order(conn, merchant_id, buyer["id"], order_id)
    program = await referral_queries.program(conn, merchant_id)
    if program is None or not program["enabled"]:
        return 0
    if program["trigger"] == "first_order" and first_order != order_id:
        return 0
    if await queries.has_accruals(conn, merchant_id, order_id):
        return 0  # a rerun: the first run wrote them
    merchant = await merchant_queries.merchant_by_id(conn, merchant_id)
    assert merchant is not None
    now: datetime = order.created_at
    day = now.astimezone(ZoneInfo(merchant.time_zone)).date()
    available_at = now + timedelta(days=program["hold_days"])
    rates: list[int] = list(program["level_rates_bp"])
    cap = program["max_paid_referrals_per_day"]
    rows: list[EntryRow] = []
    for step, status, held_by in edge_states(upline[:len(rates)]):
        level, beneficiary = step["level"], step["beneficiary_id"]
        amount = commission(order.amount, rates[level - 1])
        if amount <= 0 or beneficiary == buyer["id"]:
            continue
        if same_phone(step["beneficiary_phone"], buyer["phone"]):
            continue  # one person with two memberships: no self-referral
        if cap is not None and not await queries.count_paid_referral(conn, beneficiary, day,
                                                                     cap):
            continue
        rows.append(EntryRow(
            id=new_id("com"), merchant_id=merchant_id, order_id=order_id,
            beneficiary_id=beneficiary, buyer_id=buyer["id"], level=level, kind="accrual",
            cause="order", refund_id=None, amount=amount, rate_bp=rates[level - 1],
            status=status, held_by=held_by, available_at=available_at, created_at=now))
    return await queries.insert_entries(conn, rows)


async def reverse(conn: asyncpg.Connection, refund: hooks.OrderRefunded) -> int:
    """Listener of OrderRefunded: take back this refund's share of each accrual, once."""
    merchant_id, order_id = refund.merchant_id, refund.order_id
    refund_id = refund.refund_id
    now: datetime = refund.created_at
    rows: list[EntryRow] = []
    for accrual in await queries.accruals_of_order(conn, merchant_id, order_id):
        if accrual["status"] == "rejected":
            continue
        amount = reversal(refund.paid, refund.refunded_before, refund.amount,
                          accrual["rate_bp"])
        if amount == 0:
            continue
        kind = "clawback" if accrual["status"] == "available" else "reversal"
        rows.append(EntryRow(
            id=new_id("com"), merchant_id=merchant_id, order_id=order_id,
            beneficiary_id=accrual["beneficiary_id"], buyer_id=accrual["buyer_id"],
            level=accrual["level"], kind=kind, cause=f"refund:{refund_id}",
            refund_id=refund_id, amount=-amount, rate_bp=accrual["rate_bp"],
            status="reversed", held_by=None, available_at=accrual["available_at"],
            created_at=now))
    return await queries.insert_entries(conn, rows)


async def release_due(conn: asyncpg.Connection, now: datetime, batch: int) -> int:
    """Pending accruals whose hold has ended become available. Locked rows (a refund in
    flight) are skipped and picked up by the next run."""
    return await queries.release_due(conn, now, batch)


async def review_held(conn: asyncpg.Connection, merchant_id: str, member_id: str) -> None:
    """After the binding of ``member_id`` was approved or rejected: move the accruals it held
    to where their chain now puts them (pending, held by another binding, or rejected)."""
    for accrual in await queries.held_accruals(conn, merchant_id, member_id):
        upline = await referral_queries.upline(conn, accrual["buyer_id"], accrual["level"])
        states = edge_states(upline)
        if len(states) < accrual["level"]:
            await queries.set_accrual_status(conn, accrual["id"], "rejected", None)
            continue
        _, status, held_by = states[accrual["level"] - 1]
        await queries.set_accrual_status(conn, accrual["id"], status, held_by)


async def balance(conn: asyncpg.Connection | asyncpg.Pool, member_id: str) -> Balance:
    row = await queries.balance(conn, member_id)
    return Balance(pending=row["pending"], available=row["available"],
                   reversed=row["reversed"], held=row["held"], requested=row["requested"],
                   paid=row["paid"])
