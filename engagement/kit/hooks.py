"""In-transaction hooks: how the core tells a domain that something happened to the core's
objects without importing it. Domains declare their listeners in their ``Domain`` record;
the composition roots install them (``engagement/domains.py``); each runs on the caller's
connection, inside its transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

Listener = Callable[[asyncpg.Connection, dict[str, Any]], Awaitable[None]]

_listeners: dict[str, list[Listener]] = {}


def install(listeners: list[tuple[str, Listener]]) -> None:
    """Replace every listener with these (in order): the same list however often a process
    builds an app or a worker."""
    _listeners.clear()
    for event, listener in listeners:
        _listeners.setdefault(event, []).append(listener)


async def emit(conn: asyncpg.Connection, event: str, payload: dict[str, Any]) -> None:
    for listener in _listeners.get(event, []):
        await listener(conn, payload)


COUPON_REDEEMED = "coupon.redeemed"
# An order was created (payload: merchant_id, order_id, member_id, amount, created_at) or
# refunded (adds refund_id, refunded_before, refund amount as "amount", paid). Points and
# commissions hang on these; listeners must be idempotent (keyed by order / refund id).
ORDER_PAID = "order.paid"
ORDER_REFUNDED = "order.refunded"
# A member was created (payload: merchant_id, member_id, created_at): the join bonus.
MEMBER_CREATED = "member.created"
