"""Pricing coupons against an order's subtotal: the one place that works out what a coupon
is worth (API.md, "Pricing an order"). The order API, the quote endpoint and the till page
all come here; the browser never computes money.

The rules, in cents:
- each coupon must be the buyer's own (``ensure_owned``), usable now
  (``ensure_redeemable``), and the subtotal must reach its minimum spend
  (``ensure_min_spend``);
- ``amount_off``: min(amount, subtotal); ``percent_off``: floor(subtotal × percent / 100),
  rounding in the merchant's favour by at most a cent; ``gift``: 0 (handed over at the till);
- one coupon per order unless every listed template is stackable;
- stacked discounts together never exceed the subtotal: they are taken in the order the
  codes are listed (sorted), each capped at what the ones before it left;
- a member discount (a paid membership's, engagement/orders/member_discounts.py) comes off
  the subtotal first; coupons then apply to what is left: their minimum spend is checked
  against it and a percent coupon takes its percent of it. That is the merchant's reading:
  a 满100减20 coupon promises ¥100 of spend before it, and a ¥100 bill that a 10% member
  discount has made ¥90 has not reached it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from engagement.coupons import queries
from engagement.coupons.service import (
    UnknownCoupon,
    ensure_min_spend,
    ensure_owned,
    ensure_redeemable,
)
from engagement.kit.errors import Conflict


class CouponsNotStackable(Conflict):
    code = "coupons_not_stackable"
    message = "Only one coupon per order, unless every coupon is stackable."


@dataclass(frozen=True)
class PricedCoupon:
    code: str
    coupon_id: str
    template_id: str
    discount: int  # cents this coupon takes off


@dataclass(frozen=True)
class Pricing:
    subtotal: int
    discount: int  # cents the coupons take off
    coupons: tuple[PricedCoupon, ...]
    member_discount: int = 0  # cents a membership takes off, before the coupons

    @property
    def amount(self) -> int:
        return self.subtotal - self.member_discount - self.discount


def face_value(discount: dict[str, Any], subtotal: int) -> int:
    """What one coupon's terms take off a subtotal, before any cap for stacking."""
    if discount["type"] == "amount_off":
        return min(int(discount["amount"]), subtotal)
    if discount["type"] == "percent_off":
        return subtotal * int(discount["percent"]) // 100
    return 0  # a gift: the till hands it over; the price does not change


async def load_coupons(conn: asyncpg.Connection, merchant_id: str,
                       codes: list[str]) -> list[asyncpg.Record]:
    """The coupons of ``codes`` (normalised, sorted), in that order; an unknown code is
    422 unknown_coupon on its field."""
    found = {c["code"]: c for c in await queries.coupons_by_codes(conn, merchant_id, codes)}
    rows = []
    for index, code in enumerate(codes):
        coupon = found.get(code)
        if coupon is None:
            raise UnknownCoupon(code=code, fields=[{"field": f"coupon_codes.{index}"}])
        rows.append(coupon)
    return rows


def price(coupons: list[asyncpg.Record], *, member_id: str | None, subtotal: int,
          now: datetime, member_discount: int = 0) -> Pricing:
    """Price ``coupons`` (rows of ``load_coupons``) for ``member_id``'s order of
    ``subtotal`` cents, of which ``member_discount`` comes off first. Raises the coupon's
    own error when one cannot be used, asking in the order a cashier would: whose is it,
    can it be used at all, does the order reach it."""
    assert 0 <= member_discount <= subtotal
    base = subtotal - member_discount
    for coupon in coupons:
        ensure_owned(coupon, member_id=member_id)
        ensure_redeemable(coupon, now)
        ensure_min_spend(coupon, spend=base)
    if len(coupons) > 1 and not all(c["stackable"] for c in coupons):
        raise CouponsNotStackable(codes=[c["code"] for c in coupons if not c["stackable"]])
    priced, left = [], base
    for coupon in coupons:
        off = min(face_value(coupon["discount"], base), left)
        left -= off
        priced.append(PricedCoupon(code=coupon["code"], coupon_id=coupon["id"],
                                   template_id=coupon["template_id"], discount=off))
    return Pricing(subtotal=subtotal, discount=base - left, coupons=tuple(priced),
                   member_discount=member_discount)
