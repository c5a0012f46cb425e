"""Orders: the till tells us what a member paid and which coupons it used; refunds give some
of it back. Both are idempotent, and both tell listeners (points, commissions) through
in-transaction hooks, so their effects commit or roll back with the order itself."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from engagement.coupons import queries as coupon_queries
from engagement.coupons import service as coupons
from engagement.kit import hooks
from engagement.kit.errors import (
    Conflict,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
)
from engagement.kit.ids import new_id
from engagement.members import queries as member_queries
from engagement.orders import queries
from engagement.orders.schemas import OrderCreate, OrderOut, RefundCreate, RefundOut


class OrderConflict(Conflict):
    code, message = "order_conflict", "An order with this id exists with a different body."


class RefundConflict(Conflict):
    code, message = "refund_conflict", "A refund with this id exists with a different amount."


class RefundExceedsPaid(Conflict):
    code, message = "refund_exceeds_paid", "Refunds cannot add up to more than was paid."


class UnknownMember(InvalidInput):
    code, message = "unknown_member", "No member of this merchant has this id."




def order_out(row: asyncpg.Record) -> OrderOut:
    return OrderOut(id=row["id"], member_id=row["member_id"], amount=row["amount"],
                    refunded=row["refunded"], coupon_codes=list(row["coupon_codes"]),
                    created_at=row["created_at"])


def _replay(row: asyncpg.Record, request_hash: str) -> OrderOut:
    if row["request_hash"] != request_hash:
        raise OrderConflict(order_id=row["id"])
    return OrderOut.model_validate(row["response"])


async def create_order(conn: asyncpg.Connection, merchant_id: str, data: OrderCreate,
                       now: datetime) -> tuple[OrderOut, bool]:
    """The order and whether it was created now. The same id again with the same body
    replays the first response; with another body it is an OrderConflict."""
    request_hash = data.request_hash()
    existing = await queries.order_by_id(conn, merchant_id, data.id)
    if existing is not None:
        return _replay(existing, request_hash), False
    if await member_queries.member_by_id(conn, merchant_id, data.member_id) is None:
        raise UnknownMember(member_id=data.member_id)
    out = OrderOut(id=data.id, member_id=data.member_id, amount=data.amount, refunded=0,
                   coupon_codes=data.coupon_codes, created_at=now)
    row = await queries.insert_order(
        conn, merchant_id=merchant_id, id=data.id, member_id=data.member_id,
        amount=data.amount, coupon_codes=data.coupon_codes, request_hash=request_hash,
        response=out.model_dump(mode="json"), created_at=now)
    if row is None:  # a twin request committed first
        existing = await queries.order_by_id(conn, merchant_id, data.id)
        assert existing is not None
        return _replay(existing, request_hash), False
    await _redeem_coupons(conn, merchant_id, data, now)
    await hooks.emit(conn, hooks.OrderPaid(
        merchant_id=merchant_id, order_id=data.id, member_id=data.member_id,
        amount=data.amount, created_at=now))
    return out, True


async def _redeem_coupons(conn: asyncpg.Connection, merchant_id: str, data: OrderCreate,
                          now: datetime) -> None:
    if not data.coupon_codes:
        return
    found = {c["code"]: c for c in await coupon_queries.coupons_by_codes(
        conn, merchant_id, data.coupon_codes)}
    for index, code in enumerate(data.coupon_codes):
        coupon = found.get(code)
        if coupon is None:
            raise coupons.UnknownCoupon(code=code, fields=[{"field": f"coupon_codes.{index}"}])
        coupons.ensure_applicable(coupon, member_id=data.member_id, spend=data.amount)
    # Templates' counter rows are locked in one fixed order: two orders never deadlock.
    for coupon in sorted(found.values(), key=lambda c: (c["template_id"], c["code"])):
        await coupons.redeem(conn, merchant_id, coupon["code"], now, data.id)


async def get_order(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                    order_id: str) -> OrderOut:
    row = await queries.order_by_id(conn, merchant_id, order_id)
    if row is None:
        raise NotFound("No such order.")
    return order_out(row)


async def create_refund(conn: asyncpg.Connection, merchant_id: str, order_id: str,
                        data: RefundCreate, now: datetime, *,
                        idempotency_key: str | None = None) -> tuple[RefundOut, bool]:
    """Refund part of an order; refunds add up to at most the amount paid. The refund's id
    (or the Idempotency-Key) makes a retry a replay of the first response."""
    order = await queries.order_by_id(conn, merchant_id, order_id, for_update=True)
    if order is None:
        raise NotFound("No such order.")
    key = data.id or idempotency_key
    if key is not None:
        prior = await queries.refund_by_key(conn, merchant_id, order_id, key)
        if prior is not None:
            if prior["amount"] != data.amount:
                if data.id is None:
                    raise IdempotencyKeyReused()
                raise RefundConflict(refund_id=data.id)
            return RefundOut.model_validate(prior["response"]), False
    before = order["refunded"]
    if before + data.amount > order["amount"]:
        raise RefundExceedsPaid(paid=order["amount"], refunded=before, requested=data.amount)
    refund_id = new_id("rfd")
    out = RefundOut(id=refund_id, order_id=order_id, amount=data.amount,
                    refunded_total=before + data.amount, created_at=now)
    await queries.insert_refund(
        conn, id=refund_id, merchant_id=merchant_id, order_id=order_id, refund_key=key,
        amount=data.amount, refunded_before=before, response=out.model_dump(mode="json"),
        created_at=now)
    await queries.add_refunded(conn, merchant_id, order_id, data.amount)
    await hooks.emit(conn, hooks.OrderRefunded(
        merchant_id=merchant_id, order_id=order_id, member_id=order["member_id"],
        refund_id=refund_id, amount=data.amount, refunded_before=before,
        paid=order["amount"], created_at=now))
    return out, True


async def refunds_of_order(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                           order_id: str) -> list[RefundOut]:
    return [RefundOut.model_validate(r["response"])
            for r in await queries.refunds_of_order(conn, merchant_id, order_id)]
