"""Orders: the till tells us what a member paid and which coupons it used; refunds give some
of it back. Both are idempotent, and both tell listeners (points, commissions) through
in-transaction hooks, so their effects commit or roll back with the order itself.

With a ``subtotal`` the service prices the coupons itself (engagement/coupons/pricing.py),
after the member discount of a paid membership (engagement/orders/member_discounts.py);
without one, ``amount`` is what the till says was paid, as in the first version of the API.
A ``phone`` instead of a member is a guest order (支付即会员): it becomes the member's, once,
when that phone joins within GUEST_CLAIM_DAYS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from engagement.coupons import pricing
from engagement.coupons import service as coupons
from engagement.coupons.pricing import PricedCoupon, Pricing
from engagement.kit import hooks
from engagement.kit.errors import (
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
)
from engagement.kit.ids import new_id
from engagement.members import queries as member_queries
from engagement.orders import balance, member_discounts, queries
from engagement.orders.schemas import (
    CouponLine,
    OrderCreate,
    OrderOut,
    QuoteOut,
    RefundCreate,
    RefundOut,
)
from engagement.stores import service as stores

# A guest order waits this long for its phone to join (API.md, guest orders).
GUEST_CLAIM_DAYS = 30


class OrderConflict(Conflict):
    code, message = "order_conflict", "An order with this id exists with a different body."


class RefundConflict(Conflict):
    code, message = "refund_conflict", "A refund with this id exists with a different amount."


class RefundExceedsPaid(Conflict):
    code, message = "refund_exceeds_paid", "Refunds cannot add up to more than was paid."


class UnknownMember(InvalidInput):
    code, message = "unknown_member", "No member of this merchant has this id."


class AmountMismatch(InvalidInput):
    code = "amount_mismatch"
    message = "The amount is not the subtotal less the member discount and the coupons' discount."


class StoreNotYours(Forbidden):
    code, message = "store_not_yours", "Staff of one store take orders for that store only."


@dataclass(frozen=True)
class Taker:
    """The member of staff who took the order at the till (no Taker: a merchant API key)."""

    staff_id: str
    store_id: str | None  # the store they belong to, if any


def order_out(row: asyncpg.Record, lines: list[asyncpg.Record]) -> OrderOut:
    return OrderOut(id=row["id"], member_id=row["member_id"], amount=row["amount"],
                    refunded=row["refunded"], coupon_codes=list(row["coupon_codes"]),
                    created_at=row["created_at"], subtotal=row["subtotal"],
                    discount=row["discount"], store_id=row["store_id"],
                    coupons=[CouponLine(code=c["code"], discount=c["discount"])
                             for c in lines],
                    join_url=OrderOut.model_validate(row["response"]).join_url,
                    member_discount=row["member_discount"],
                    paid_with_balance=row["paid_with_balance"])


def _replay(row: asyncpg.Record, request_hash: str) -> OrderOut:
    if row["request_hash"] != request_hash:
        raise OrderConflict(order_id=row["id"])
    return OrderOut.model_validate(row["response"])


async def _buyer(conn: asyncpg.Connection, merchant_id: str, data: OrderCreate) -> str | None:
    """The buying member's id; None for a guest (a phone that is no member's)."""
    if data.member_id is not None:
        if await member_queries.member_by_id(conn, merchant_id, data.member_id) is None:
            raise UnknownMember(member_id=data.member_id, fields=[{"field": "member_id"}])
        return data.member_id
    assert data.phone is not None
    member = await member_queries.member_by_phone(conn, merchant_id, data.phone)
    return member["id"] if member is not None else None


async def _store(conn: asyncpg.Connection, merchant_id: str, data: OrderCreate,
                 taker: Taker | None) -> str | None:
    """The order's store: the one named, or the till's own. Staff of a store cannot book
    orders to another."""
    store_id = data.store_id
    if taker is not None and taker.store_id is not None:
        if store_id is not None and store_id != taker.store_id:
            raise StoreNotYours(store_id=store_id)
        store_id = taker.store_id
    if store_id is not None:
        await stores.require_store(conn, merchant_id, store_id)
    return store_id


async def _price(conn: asyncpg.Connection, merchant_id: str, data: OrderCreate,
                 member_id: str | None, now: datetime) -> Pricing:
    rows = await pricing.load_coupons(conn, merchant_id, data.coupon_codes)
    if data.subtotal is None:
        # The first version's order: the till priced it; the minimum spend is checked
        # against what was paid, and the coupons' state when they are redeemed.
        assert data.amount is not None
        for coupon in rows:
            coupons.ensure_applicable(coupon, member_id=member_id, spend=data.amount)
        return Pricing(subtotal=data.amount, discount=0, coupons=tuple(
            PricedCoupon(code=c["code"], coupon_id=c["id"], template_id=c["template_id"],
                         discount=0) for c in rows))
    off = await member_discounts.member_discount(conn, merchant_id, member_id, data.subtotal,
                                                 now)
    priced = pricing.price(rows, member_id=member_id, subtotal=data.subtotal, now=now,
                           member_discount=off)
    if data.amount is not None and data.amount != priced.amount:
        raise AmountMismatch(expected=priced.amount, fields=[{"field": "amount"}])
    return priced


async def quote(conn: asyncpg.Connection, merchant_id: str, data: OrderCreate,
                now: datetime, *, taker: Taker | None = None) -> QuoteOut:
    """What the order would come to, with the errors it would get; records nothing."""
    await _store(conn, merchant_id, data, taker)
    member_id = await _buyer(conn, merchant_id, data)
    priced = await _price(conn, merchant_id, data, member_id, now)
    out = QuoteOut(subtotal=priced.subtotal, discount=priced.discount, amount=priced.amount,
                   coupons=[CouponLine(code=c.code, discount=c.discount)
                            for c in priced.coupons],
                   member_discount=priced.member_discount)
    return await _quote_balance(conn, merchant_id, data, member_id, out)


async def _quote_balance(conn: asyncpg.Connection, merchant_id: str, data: OrderCreate,
                         member_id: str | None, out: QuoteOut) -> QuoteOut:
    """The quote's stored-value part, checked as the order would check it (no PIN: a quote
    takes nothing and tries no PIN)."""
    if data.pay_with_balance is None or member_id is None:
        return out
    balance.check_part(data.pay_with_balance, out.amount)
    available = await balance.port().available(conn, merchant_id, member_id)
    if data.pay_with_balance > available:
        raise balance.InsufficientBalance(balance=available)
    return out.model_copy(update={"paid_with_balance": data.pay_with_balance})


async def authorize_balance(pool: asyncpg.Pool, merchant_id: str, data: OrderCreate,
                            now: datetime) -> None:
    """Before an order's transaction: the payment PIN of an order paid from the balance,
    checked (and a wrong one counted) on its own connection. A retry of an order already
    recorded is a replay and tries no PIN."""
    if data.pay_with_balance is None:
        return
    if data.balance_pin is None:
        raise InvalidInput("Paying from the balance needs the member's payment PIN.",
                           fields=[{"field": "balance_pin"}])
    if await queries.order_by_id(pool, merchant_id, data.id) is not None:
        return
    assert data.member_id is not None
    if await member_queries.member_by_id(pool, merchant_id, data.member_id) is None:
        raise UnknownMember(member_id=data.member_id, fields=[{"field": "member_id"}])
    await balance.port().authorize(pool, merchant_id, data.member_id, data.balance_pin, now)


async def create_order(conn: asyncpg.Connection, merchant_id: str, data: OrderCreate,
                       now: datetime, *, taker: Taker | None = None,
                       join_url: str | None = None) -> tuple[OrderOut, bool]:
    """The order and whether it was created now. The same id again with the same body
    replays the first response; with another body it is an OrderConflict. ``join_url`` is
    handed to a guest (where they become a member)."""
    request_hash = data.request_hash()
    existing = await queries.order_by_id(conn, merchant_id, data.id)
    if existing is not None:
        return _replay(existing, request_hash), False
    store_id = await _store(conn, merchant_id, data, taker)
    member_id = await _buyer(conn, merchant_id, data)
    priced = await _price(conn, merchant_id, data, member_id, now)
    guest_phone = data.phone if member_id is None else None
    out = OrderOut(id=data.id, member_id=member_id, amount=priced.amount, refunded=0,
                   coupon_codes=data.coupon_codes, created_at=now, subtotal=data.subtotal,
                   discount=priced.discount, store_id=store_id,
                   coupons=[CouponLine(code=c.code, discount=c.discount)
                            for c in priced.coupons],
                   join_url=join_url if guest_phone is not None else None,
                   member_discount=priced.member_discount,
                   paid_with_balance=data.pay_with_balance or 0)
    if data.pay_with_balance is not None:
        balance.check_part(data.pay_with_balance, priced.amount)
    row = await queries.insert_order(
        conn, merchant_id=merchant_id, id=data.id, member_id=member_id,
        guest_phone=guest_phone, amount=priced.amount, subtotal=data.subtotal,
        discount=priced.discount, store_id=store_id,
        staff_id=taker.staff_id if taker is not None else None,
        coupon_codes=data.coupon_codes, request_hash=request_hash,
        response=out.model_dump(mode="json"), created_at=now,
        member_discount=priced.member_discount, paid_with_balance=data.pay_with_balance or 0)
    if row is None:  # a twin request committed first
        existing = await queries.order_by_id(conn, merchant_id, data.id)
        assert existing is not None
        return _replay(existing, request_hash), False
    if priced.coupons:
        await queries.insert_order_coupons(conn, merchant_id, data.id, [
            (c.code, c.coupon_id, c.discount) for c in priced.coupons])
    # Templates' counter rows are locked in one fixed order: two orders never deadlock.
    for coupon in sorted(priced.coupons, key=lambda c: (c.template_id, c.code)):
        await coupons.redeem(conn, merchant_id, coupon.code, now, data.id, store_id)
    if data.pay_with_balance is not None:
        assert member_id is not None  # the body's validator: member_id with the balance
        await balance.port().take(conn, merchant_id, member_id, data.pay_with_balance,
                                  order_id=data.id, store_id=store_id,
                                  staff_id=taker.staff_id if taker is not None else None,
                                  now=now)
    if member_id is not None:
        await hooks.emit(conn, hooks.OrderPaid(
            merchant_id=merchant_id, order_id=data.id, member_id=member_id,
            amount=priced.amount, created_at=now))
    return out, True


async def on_member_created(conn: asyncpg.Connection, member: hooks.MemberCreated) -> None:
    """Listener of MemberCreated: the guest orders of the new member's phone become theirs
    (支付即会员), once, and earn what a member's order earns, as at the time of the order."""
    row = await member_queries.member_by_id(conn, member.merchant_id, member.member_id)
    if row is None or not row["phone"]:
        return
    since = member.created_at - timedelta(days=GUEST_CLAIM_DAYS)
    for order in await queries.claim_guest_orders(conn, member.merchant_id, row["id"],
                                                  row["phone"], since, member.created_at):
        # Money refunded before the claim was never this member's to earn on.
        await hooks.emit(conn, hooks.OrderPaid(
            merchant_id=member.merchant_id, order_id=order["id"], member_id=row["id"],
            amount=order["amount"] - order["refunded"], created_at=order["created_at"]))


async def get_order(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                    order_id: str) -> OrderOut:
    row = await queries.order_by_id(conn, merchant_id, order_id)
    if row is None:
        raise NotFound("No such order.")
    return order_out(row, await queries.order_coupons(conn, merchant_id, order_id))


async def create_refund(conn: asyncpg.Connection, merchant_id: str, order_id: str,
                        data: RefundCreate, now: datetime, *,
                        idempotency_key: str | None = None) -> tuple[RefundOut, bool]:
    """Refund part of an order; refunds add up to at most the amount paid. The refund that
    brings the total up to the amount paid gives the order's coupons back. The refund's id
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
    to_balance = balance.refund_share(order["paid_with_balance"], order["amount"], before,
                                      data.amount)
    returned: list[str] = []
    if before + data.amount == order["amount"] and await queries.mark_coupons_returned(
            conn, merchant_id, order_id, now):
        returned = await coupons.return_to_member(conn, merchant_id, order_id, now)
    out = RefundOut(id=refund_id, order_id=order_id, amount=data.amount,
                    refunded_total=before + data.amount, created_at=now,
                    coupons_returned=returned, to_balance=to_balance)
    await queries.insert_refund(
        conn, id=refund_id, merchant_id=merchant_id, order_id=order_id, refund_key=key,
        amount=data.amount, refunded_before=before, response=out.model_dump(mode="json"),
        created_at=now)
    await queries.add_refunded(conn, merchant_id, order_id, data.amount)
    if order["member_id"] is None:
        return out, True  # a guest order: nothing was earned on it yet
    await hooks.emit(conn, hooks.OrderRefunded(
        merchant_id=merchant_id, order_id=order_id, member_id=order["member_id"],
        refund_id=refund_id, amount=data.amount, refunded_before=before,
        paid=order["amount"], created_at=now, to_balance=to_balance))
    return out, True


async def refunds_of_order(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                           order_id: str) -> list[RefundOut]:
    return [RefundOut.model_validate(r["response"])
            for r in await queries.refunds_of_order(conn, merchant_id, order_id)]
