"""Finding the customer at the till, in seconds and in the cashier's words.

What the cashier types or scans is one of four things, told apart by its shape: the last
four digits of a phone (手机尾号), an 18-digit member code from the member home, a
coupon code, or a whole phone number. A coupon that cannot be used is refused here, at the
lookup, with the same codes the order would give (already used, expired, someone else's),
so the cashier hears why before the customer has paid."""

from __future__ import annotations

import re
from datetime import datetime

import asyncpg
from redis.asyncio import Redis

from engagement.coupons import queries as coupon_queries
from engagement.coupons import service as coupons
from engagement.coupons.service import COUPON_CODE_LENGTH
from engagement.kit.constants import MEMBER_CODE_DIGITS
from engagement.kit.errors import InvalidInput, NotFound
from engagement.kit.fields import normalise_phone
from engagement.members import member_codes
from engagement.members import queries as member_queries
from engagement.till import queries
from engagement.till.schemas import (
    COUPONS_SHOWN,
    TAIL_MATCHES,
    LookupOut,
    ReceiptCoupon,
    ReceiptOut,
    TillCard,
    TillCoupon,
    TillMember,
)

TAIL_DIGITS = 4
# A phone as members store it (engagement/members/schemas.py, MemberCreate.phone).
_PHONE = re.compile(r"^\+?[0-9]{6,20}$")
_COUPON_CODE = re.compile(r"^[0-9A-Z]{1,32}$")
# What a person or a scanner may put between digits: "138 0013 8000", "138-0013-8000".
_SEPARATORS = re.compile(r"[\s\-]+")


class QueryNotUnderstood(InvalidInput):
    code = "lookup_query_not_understood"
    message = ("Send a phone number, its last 4 digits, an 18-digit member code or a "
               "coupon code.")


class MemberCodeNotFound(NotFound):
    code = "member_code_not_found"
    message = "No member has this code now: member codes last a few minutes."


class CouponCodeNotFound(NotFound):
    code = "coupon_code_not_found"
    message = "No coupon of this merchant has this code."


def mask_phone(phone: str | None) -> str | None:
    """All but the last four digits hidden: enough for the cashier to confirm "尾号 8000"
    with the customer, nothing for someone reading over a shoulder."""
    if not phone:
        return None
    if len(phone) <= TAIL_DIGITS:
        return phone
    return "*" * (len(phone) - TAIL_DIGITS) + phone[-TAIL_DIGITS:]


def till_member(row: asyncpg.Record) -> TillMember:
    return TillMember(id=row["id"], name=row["name"], phone=mask_phone(row["phone"]),
                      tier=row["tier"], points=row["points"])


def till_coupon(row: asyncpg.Record) -> TillCoupon:
    return TillCoupon(code=row["code"], template_id=row["template_id"], name=row["name"],
                      discount=row["discount"], min_spend=row["min_spend"],
                      expires_at=row["expires_at"], stackable=row["stackable"])


async def cards(conn: asyncpg.Connection, merchant_id: str, members: list[asyncpg.Record],
                now: datetime, matched_code: str | None = None) -> list[TillCard]:
    """Each member with the coupons they may use now, in one query for all of them."""
    if not members:
        return []
    usable = await coupon_queries.usable_coupons_of_members(
        conn, merchant_id, [m["id"] for m in members], now, COUPONS_SHOWN)
    by_member: dict[str, list[TillCoupon]] = {}
    for row in usable:
        by_member.setdefault(row["member_id"], []).append(till_coupon(row))
    return [TillCard(member=till_member(m), coupons=by_member.get(m["id"], []),
                     matched_code=matched_code) for m in members]


def _clean(query: str) -> str:
    return _SEPARATORS.sub("", query.strip())


async def lookup(conn: asyncpg.Connection, redis: Redis, merchant_id: str, query: str,
                 now: datetime, *, on_screen: str | None = None) -> LookupOut:
    """What the query stands for, by its shape. ``on_screen`` is the member the cashier
    has already found: a coupon code of anyone else is then refused."""
    text = _clean(query)
    if text.isascii() and text.isdigit():
        if len(text) == TAIL_DIGITS:
            return await _by_tail(conn, merchant_id, text, now)
        if len(text) == MEMBER_CODE_DIGITS:
            found = await _by_member_code(conn, redis, merchant_id, text, now)
            if found is not None:
                return found
            if await member_queries.member_by_phone(conn, merchant_id, text) is None:
                raise MemberCodeNotFound()
        if len(text) == COUPON_CODE_LENGTH:  # Crockford codes may be all digits
            coupon = await coupon_queries.coupon_at_till(conn, merchant_id, text)
            if coupon is not None:
                return await _by_coupon(conn, merchant_id, coupon, now, on_screen)
    if _PHONE.match(text):
        return await _by_phone(conn, merchant_id, text, now)
    code = text.upper()
    if not _COUPON_CODE.match(code) or code.isdigit():  # digits too few for a phone
        raise QueryNotUnderstood(fields=[{"field": "query"}])
    coupon = await coupon_queries.coupon_at_till(conn, merchant_id, code)
    if coupon is None:
        raise CouponCodeNotFound(code=code)
    return await _by_coupon(conn, merchant_id, coupon, now, on_screen)


async def _by_tail(conn: asyncpg.Connection, merchant_id: str, tail: str,
                   now: datetime) -> LookupOut:
    rows = await member_queries.members_by_phone_tail(conn, merchant_id, tail,
                                                      TAIL_MATCHES + 1)
    return LookupOut(kind="phone_tail", items=await cards(conn, merchant_id,
                                                          rows[:TAIL_MATCHES], now),
                     guest_phone=None, truncated=len(rows) > TAIL_MATCHES)


def _mobile(phone: str) -> str | None:
    """The number as a guest order takes it (an 11-digit mobile, +86 dropped), or None."""
    try:
        return normalise_phone(phone)
    except ValueError:
        return None


async def _by_phone(conn: asyncpg.Connection, merchant_id: str, phone: str,
                    now: datetime) -> LookupOut:
    mobile = _mobile(phone)
    # As typed, then as joining stores it ("+86 138..." is "138...").
    row = await member_queries.member_by_phone(conn, merchant_id, phone)
    if row is None and mobile is not None and mobile != phone:
        row = await member_queries.member_by_phone(conn, merchant_id, mobile)
    if row is None:  # 支付即会员: not a member yet; a mobile may take a guest order
        return LookupOut(kind="phone", items=[], guest_phone=mobile)
    return LookupOut(kind="phone", items=await cards(conn, merchant_id, [row], now),
                     guest_phone=None)


async def _by_member_code(conn: asyncpg.Connection, redis: Redis, merchant_id: str,
                          code: str, now: datetime) -> LookupOut | None:
    member_id = await member_codes.resolve(redis, merchant_id, code)
    row = None if member_id is None else await member_queries.member_by_id(
        conn, merchant_id, member_id)
    if row is None:
        return None
    return LookupOut(kind="member_code", items=await cards(conn, merchant_id, [row], now),
                     guest_phone=None)


async def member_card(conn: asyncpg.Connection, redis: Redis, merchant_id: str, code: str,
                      now: datetime) -> TillCard:
    """GET /api/v1/member-codes/{code}: the member a live code stands for."""
    found = await _by_member_code(conn, redis, merchant_id, code, now)
    if found is None:
        raise MemberCodeNotFound()
    return found.items[0]


async def _by_coupon(conn: asyncpg.Connection, merchant_id: str, coupon: asyncpg.Record,
                     now: datetime, on_screen: str | None) -> LookupOut:
    """The coupon's owner with that coupon marked, or the reason it cannot be used."""
    if on_screen is not None:
        coupons.ensure_owned(coupon, member_id=on_screen)
    coupons.ensure_redeemable(coupon, now)  # the order's own rule, heard before paying
    owner = await member_queries.member_by_id(conn, merchant_id, coupon["member_id"])
    assert owner is not None  # coupons.member_id references members
    items = await cards(conn, merchant_id, [owner], now, matched_code=coupon["code"])
    return LookupOut(kind="coupon_code", items=items, guest_phone=None)


async def receipt(conn: asyncpg.Connection, merchant_id: str, order_id: str) -> ReceiptOut:
    """What the till shows once an order is taken: what was paid and saved, and the
    points it earned, read back from what was recorded."""
    order = await queries.order_for_receipt(conn, merchant_id, order_id)
    if order is None:
        raise NotFound("No such order.")
    member = None
    if order["member_id"] is not None:
        row = await member_queries.member_by_id(conn, merchant_id, order["member_id"])
        member = till_member(row) if row is not None else None
    used = await queries.coupons_of_order(conn, merchant_id, order_id)
    return ReceiptOut(
        order_id=order["id"], member=member, guest_phone=mask_phone(order["guest_phone"]),
        subtotal=order["subtotal"], discount=order["discount"], amount=order["amount"],
        member_discount=order["member_discount"],
        coupons=[ReceiptCoupon(code=c["code"], name=c["name"], discount=c["discount"])
                 for c in used],
        points_earned=await queries.points_of_order(conn, merchant_id, order_id),
        points_balance=member.points if member is not None else None,
        store_id=order["store_id"], created_at=order["created_at"])
