"""In-transaction events: how the core tells a domain that something happened to the core's
objects without importing it. Each event is a frozen dataclass (its payload has names and
types); domains declare their listeners in their ``Domain`` record as (event class,
listener); the composition roots install them (``engagement/domains.py``). A listener runs
on the caller's connection, inside its transaction, and must be idempotent (keyed by the
order, refund or member id): jobs and retries may deliver an event's effects twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

import asyncpg


@dataclass(frozen=True)
class OrderPaid:
    """An order was recorded: points and commissions hang on it."""

    name: ClassVar[str] = "order.paid"
    merchant_id: str
    order_id: str
    member_id: str
    amount: int  # cents paid
    created_at: datetime


@dataclass(frozen=True)
class OrderRefunded:
    """Part or all of an order was refunded: points and commissions are taken back in
    proportion (refunded_before + amount of paid)."""

    name: ClassVar[str] = "order.refunded"
    merchant_id: str
    order_id: str
    member_id: str
    refund_id: str
    amount: int  # cents refunded now
    refunded_before: int
    paid: int
    created_at: datetime
    to_balance: int = 0  # cents of it returned to the member's stored-value balance


@dataclass(frozen=True)
class MemberCreated:
    """A member was created: the join bonus."""

    name: ClassVar[str] = "member.created"
    merchant_id: str
    member_id: str
    created_at: datetime


@dataclass(frozen=True)
class CouponRedeemed:
    """A coupon was redeemed: a campaign's counters follow its prize's coupons."""

    name: ClassVar[str] = "coupon.redeemed"
    code: str
    template_id: str
    order_id: str | None
    prize_id: str | None
    redeemed_at: datetime


@dataclass(frozen=True)
class CouponReturned:
    """A redeemed coupon was given back to its member (its order was wholly refunded):
    counters of redemptions step back."""

    name: ClassVar[str] = "coupon.returned"
    code: str
    template_id: str
    order_id: str
    prize_id: str | None
    returned_at: datetime


@dataclass(frozen=True)
class CheckedIn:
    """A member checked in for the day (签到): campaigns that grant draws per check-in
    listen. ``day`` is the merchant's local date; ``draws`` the extra draws the check-in
    program's reward for this streak day gives."""

    name: ClassVar[str] = "member.checked_in"
    merchant_id: str
    member_id: str
    check_in_id: str
    day: date
    streak: int
    draws: int
    created_at: datetime


@dataclass(frozen=True)
class FriendJoined:
    """A friend joined through a member's share link and the binding counts (at once, or
    when a merchant approved a binding held for review): campaigns that grant draws per
    invite listen. ``referrer_id`` is the sharer, ``member_id`` the friend."""

    name: ClassVar[str] = "referral.friend_joined"
    merchant_id: str
    referrer_id: str
    member_id: str
    created_at: datetime


Event = (OrderPaid | OrderRefunded | MemberCreated | CouponRedeemed | CouponReturned
         | CheckedIn | FriendJoined)
Listener = Callable[[asyncpg.Connection, Any], Awaitable[None]]

_listeners: dict[type, list[Listener]] = {}


def install(listeners: list[tuple[type, Listener]]) -> None:
    """Replace every listener with these (in order): the same list however often a process
    builds an app or a worker."""
    _listeners.clear()
    for event, listener in listeners:
        _listeners.setdefault(event, []).append(listener)


async def emit(conn: asyncpg.Connection, event: Event) -> None:
    for listener in _listeners.get(type(event), []):
        await listener(conn, event)
