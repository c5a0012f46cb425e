"""Coupon templates (inventory), issuing and redeeming coupons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from engagement.coupons import queries
from engagement.coupons.schemas import (
    CouponOut,
    RedeemOut,
    StockChange,
    TemplateCreate,
    TemplateOut,
    TemplateUpdate,
)
from engagement.kit import hooks
from engagement.kit.errors import Conflict, InvalidInput, NotFound
from engagement.kit.fields import MAX_STOCK
from engagement.kit.ids import new_id, random_code
from engagement.members import queries as member_queries

# 12 symbols of a 32-letter alphabet: 60 bits, unguessable, still easy to read at a till.
COUPON_CODE_LENGTH = 12


class InsufficientInventory(Conflict):
    code, message = "insufficient_inventory", "The coupon template does not have enough stock."


class CouponAlreadyRedeemed(Conflict):
    code, message = "coupon_already_redeemed", "This coupon has already been used."


class CouponExpired(Conflict):
    code, message = "coupon_expired", "This coupon has expired."


class CouponVoid(Conflict):
    code, message = "coupon_void", "This coupon has been voided."


class CouponNotYetValid(Conflict):
    code, message = "coupon_not_yet_valid", "This coupon cannot be used yet."


class CouponLimitReached(Conflict):
    code, message = "coupon_limit_reached", "This member already holds as many as allowed."


class UnknownTemplate(InvalidInput):
    code, message = "unknown_coupon_template", "No coupon template of this merchant has this id."




async def require_template(conn: asyncpg.Connection, merchant_id: str, template_id: str,
                           field: str) -> asyncpg.Record:
    """The merchant's template, for anything that hands out its coupons (a reward, a tier's
    monthly coupon, a send); 422 unknown_coupon_template on ``field`` when there is none."""
    template = await queries.template_by_id(conn, merchant_id, template_id)
    if template is None:
        raise UnknownTemplate(fields=[{"field": field}])
    return template


def template_out(row: asyncpg.Record) -> TemplateOut:
    return TemplateOut(**dict(row))


async def create_template(conn: asyncpg.Connection, merchant_id: str,
                          data: TemplateCreate) -> TemplateOut:
    row = await queries.insert_template(
        conn, id=new_id("tpl"), merchant_id=merchant_id, name=data.name,
        discount=data.discount.model_dump(), min_spend=data.min_spend, stock=data.stock,
        valid_days=data.valid_days, per_member_limit=data.per_member_limit,
        stackable=data.stackable,
    )
    return template_out(row)


async def get_template(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                       template_id: str) -> TemplateOut:
    row = await queries.template_by_id(conn, merchant_id, template_id)
    if row is None:
        raise NotFound("No such coupon template.")
    return template_out(row)


async def reserve(conn: asyncpg.Connection, template_id: str, quantity: int) -> None:
    """Hold inventory for a campaign; raises InsufficientInventory when stock can't cover it,
    or when an unlimited template's reservations would add up past int4."""
    try:
        async with conn.transaction():  # savepoint: keep the caller's transaction usable
            await queries.adjust_template_counters(conn, template_id, reserved=quantity)
    except (asyncpg.CheckViolationError, asyncpg.NumericValueOutOfRangeError) as exc:
        raise InsufficientInventory(template_id=template_id, requested=quantity) from exc


async def release(conn: asyncpg.Connection, template_id: str, quantity: int) -> None:
    if quantity:
        await queries.adjust_template_counters(conn, template_id, reserved=-quantity)


@dataclass(frozen=True)
class DrawCoupon:
    """A coupon owed to a winning draw, paid out of the campaign's reservation."""

    draw_id: str
    merchant_id: str
    member_id: str
    template_id: str
    campaign_id: str
    prize_id: str
    valid_days: int | None
    # False for an unlimited prize on an unlimited template: nothing was reserved for it.
    from_reservation: bool = True


async def issue_for_draws(conn: asyncpg.Connection, owed: list[DrawCoupon],
                          now: datetime) -> list[asyncpg.Record]:
    """Issue one coupon per draw, exactly once (unique draw_id); reserved inventory turns
    into issued inventory for the coupons actually made. Returns the inserted rows."""
    if not owed:
        return []
    rows = [
        (new_id("cpn"), o.merchant_id, o.template_id, o.member_id,
         random_code(COUPON_CODE_LENGTH), "draw", o.draw_id, o.campaign_id, o.prize_id, now,
         now + timedelta(days=o.valid_days) if o.valid_days else None, now)
        for o in owed
    ]
    inserted = await queries.insert_coupons(conn, rows)
    reserved_by_draw = {o.draw_id: o.from_reservation for o in owed}
    per_template: dict[tuple[str, bool], int] = {}
    for row in inserted:
        key = (row["template_id"], reserved_by_draw[row["draw_id"]])
        per_template[key] = per_template.get(key, 0) + 1
    for template_id, from_reservation in sorted(per_template):  # fixed order: no deadlocks
        n = per_template[(template_id, from_reservation)]
        await queries.adjust_template_counters(
            conn, template_id, reserved=-n if from_reservation else 0, issued=n)
    return inserted


def ensure_redeemable(coupon: asyncpg.Record, now: datetime) -> None:
    """Whether a coupon can be used now, whoever presents it: issued, not expired, valid."""
    code = coupon["code"]
    if coupon["status"] == "redeemed":
        raise CouponAlreadyRedeemed(code=code)
    if coupon["status"] == "void":
        raise CouponVoid(code=code)
    if coupon["status"] == "expired" or (coupon["expires_at"] and coupon["expires_at"] <= now):
        raise CouponExpired(code=code, expires_at=coupon["expires_at"].isoformat())
    if coupon["valid_from"] > now:
        raise CouponNotYetValid(code=code)


async def redeem(conn: asyncpg.Connection, merchant_id: str, code: str, now: datetime,
                 order_id: str | None, store_id: str | None = None) -> RedeemOut:
    coupon = await queries.coupon_by_code(conn, merchant_id, code.strip().upper())
    if coupon is None:
        raise NotFound("No coupon has this code.")
    ensure_redeemable(coupon, now)
    row = await queries.mark_redeemed(conn, coupon["id"], now, order_id, store_id)
    if row is None:  # a concurrent redemption won the race
        raise CouponAlreadyRedeemed(code=code)
    await queries.adjust_template_counters(conn, row["template_id"], redeemed=1)
    await hooks.emit(conn, hooks.CouponRedeemed(
        code=row["code"], template_id=row["template_id"], order_id=row["order_id"],
        prize_id=row["prize_id"], redeemed_at=row["redeemed_at"]))
    return RedeemOut(code=row["code"], status="redeemed", redeemed_at=row["redeemed_at"],
                     order_id=row["order_id"])


async def return_to_member(conn: asyncpg.Connection, merchant_id: str, order_id: str,
                           now: datetime) -> list[str]:
    """A wholly refunded order's coupons go back to their member (status issued), except
    those that have expired since. Returns the codes given back."""
    rows = await queries.return_coupons(conn, merchant_id, order_id, now)
    per_template: dict[str, int] = {}
    for row in rows:
        per_template[row["template_id"]] = per_template.get(row["template_id"], 0) + 1
    for template_id in sorted(per_template):  # fixed order: no deadlocks
        await queries.adjust_template_counters(conn, template_id,
                                               redeemed=-per_template[template_id])
    for row in rows:
        await hooks.emit(conn, hooks.CouponReturned(
            code=row["code"], template_id=row["template_id"], order_id=order_id,
            prize_id=row["prize_id"], returned_at=now))
    return sorted(row["code"] for row in rows)


class UnknownCoupon(InvalidInput):
    code, message = "unknown_coupon", "No coupon of this merchant has this code."


class CouponNotOwned(Conflict):
    code, message = "coupon_not_owned", "This coupon belongs to another member."


class CouponMinSpendNotMet(Conflict):
    code, message = "coupon_min_spend_not_met", "The order is below this coupon's minimum spend."


def ensure_owned(coupon: asyncpg.Record, *, member_id: str | None) -> None:
    """A coupon goes only with its own member's order (a guest has none)."""
    if coupon["member_id"] != member_id:
        raise CouponNotOwned(code=coupon["code"])


def ensure_min_spend(coupon: asyncpg.Record, *, spend: int) -> None:
    """The order (cents: the subtotal when the service prices it) reaches the coupon's
    template's minimum spend."""
    if spend < coupon["min_spend"]:
        raise CouponMinSpendNotMet(code=coupon["code"], min_spend=coupon["min_spend"])


def ensure_applicable(coupon: asyncpg.Record, *, member_id: str | None, spend: int) -> None:
    """Whether a coupon (a row of coupons_by_codes) may go with an order: it is the
    buyer's own, and the order reaches its template's minimum spend (cents)."""
    ensure_owned(coupon, member_id=member_id)
    ensure_min_spend(coupon, spend=spend)


async def issue_single(conn: asyncpg.Connection, merchant_id: str, template_id: str,
                       member_id: str, *, source: str, now: datetime) -> asyncpg.Record:
    """Issue one coupon straight from a template's free inventory, outside any campaign (a
    share-link welcome coupon, say). Raises InsufficientInventory when the template has no
    stock left, CouponLimitReached past its per-member limit; the caller's transaction stays
    usable either way."""
    template = await queries.template_by_id(conn, merchant_id, template_id)
    if template is None:
        raise NotFound("No such coupon template.")
    limit = template["per_member_limit"]
    if limit is not None:
        await queries.lock_member_template(conn, member_id, template_id)
        if await queries.count_member_coupons(conn, member_id, template_id) >= limit:
            raise CouponLimitReached(template_id=template_id, per_member_limit=limit)
    try:
        async with conn.transaction():  # savepoint: a refused issue leaves the caller usable
            await queries.adjust_template_counters(conn, template_id, issued=1)
    except asyncpg.CheckViolationError as exc:
        raise InsufficientInventory(template_id=template_id, requested=1) from exc
    valid_days = template["valid_days"]
    expires_at = now + timedelta(days=valid_days) if valid_days else None
    while True:  # a code collision is a 2**-60 event; draw again rather than fail
        row = await queries.insert_coupon(
            conn, id=new_id("cpn"), merchant_id=merchant_id, template_id=template_id,
            member_id=member_id, code=random_code(COUPON_CODE_LENGTH), source=source,
            expires_at=expires_at, now=now)
        if row is not None:
            return row


class OutOfStock(Conflict):
    code, message = "out_of_stock", "This coupon template has no stock left."


async def give_by_hand(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                       template_id: str, now: datetime) -> CouponOut:
    """手动发券: one coupon of a template to a member, out of the template's free stock and
    within its per-member limit."""
    if await member_queries.member_by_id(conn, merchant_id, member_id) is None:
        raise NotFound("No such member.")
    template = await require_template(conn, merchant_id, template_id, "coupon_template_id")
    try:
        row = await issue_single(conn, merchant_id, template_id, member_id, source="manual",
                                 now=now)
    except InsufficientInventory as exc:
        raise OutOfStock(template_id=template_id) from exc
    return CouponOut(code=row["code"], template_id=template_id, name=template["name"],
                     discount=template["discount"], min_spend=template["min_spend"],
                     status="issued", source="manual", draw_id=None, campaign_id=None,
                     issued_at=row["issued_at"], expires_at=row["expires_at"],
                     redeemed_at=None)


async def expire_due(conn: asyncpg.Connection, now: datetime, batch: int = 5000) -> int:
    return await queries.expire_due(conn, now, batch)


class TemplateTermsLocked(Conflict):
    code = "template_terms_locked"
    message = ("The discount and minimum spend cannot change once coupons of this template "
               "are issued or reserved: members were promised them.")


class UnlimitedStock(Conflict):
    code, message = "unlimited_stock", "This template has unlimited stock."


class StockOverCap(InvalidInput):
    code = "stock_over_cap"
    message = f"A template's stock is at most {MAX_STOCK:,}."


async def update_template(conn: asyncpg.Connection, merchant_id: str, template_id: str,
                          data: TemplateUpdate) -> TemplateOut:
    current = await queries.template_by_id(conn, merchant_id, template_id)
    if current is None:
        raise NotFound("No such coupon template.")
    discount = data.discount.model_dump() if data.discount is not None else None
    terms_change = ((discount is not None and discount != current["discount"])
                    or (data.min_spend is not None and data.min_spend != current["min_spend"]))
    if terms_change and (current["issued"] or current["reserved"]):
        raise TemplateTermsLocked(template_id=template_id)
    row = await queries.update_template(
        conn, template_id, name=data.name, discount=discount, min_spend=data.min_spend,
        valid_days=data.valid_days, per_member_limit=data.per_member_limit,
        clear_per_member_limit=data.clear_per_member_limit, stackable=data.stackable)
    return template_out(row)


async def change_stock(conn: asyncpg.Connection, merchant_id: str, template_id: str,
                       data: StockChange) -> TemplateOut:
    """Top up (or take back unused) stock. Never below reserved + issued: the template's
    CHECK constraint refuses it, as InsufficientInventory."""
    current = await queries.template_by_id(conn, merchant_id, template_id)
    if current is None:
        raise NotFound("No such coupon template.")
    # Top-ups add up: without the cap, enough of them pass int4 (a 500). Two racing past
    # this check still land far inside int4, so reading the row unlocked is enough.
    if current["stock"] is not None and current["stock"] + data.delta > MAX_STOCK:
        raise StockOverCap(template_id=template_id, fields=[{"field": "delta"}])
    try:
        async with conn.transaction():  # savepoint: a refusal leaves the caller usable
            row = await queries.add_stock(conn, template_id, data.delta)
    except asyncpg.CheckViolationError as exc:
        raise InsufficientInventory(
            "Stock cannot go below what is reserved and issued.", template_id=template_id,
            requested=data.delta) from exc
    if row is None:
        raise UnlimitedStock(template_id=template_id)
    return template_out(row)
