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
