"""In-transaction hooks: how the core tells a domain that something happened to the core's
objects without importing it. Composition roots (app factory, worker) register listeners;
each runs on the caller's connection, inside its transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

Listener = Callable[[asyncpg.Connection, dict[str, Any]], Awaitable[None]]

_listeners: dict[str, list[Listener]] = {}


def listen(event: str, listener: Listener) -> None:
    if listener not in _listeners.setdefault(event, []):
        _listeners[event].append(listener)


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
