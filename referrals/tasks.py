"""Jobs of the referrals domain (registered by ``workers``), and the hooks by which orders
reach the commission ledger (registered by the composition roots)."""

from __future__ import annotations

from typing import Any

import asyncpg

from engagement.kit import hooks
from engagement.kit.db import transaction
from engagement.kit.state import Services
from referrals.ledger import service as ledger

# Accruals released per transaction: short row locks, few round trips.
RELEASE_BATCH = 1000


async def release_commissions(ctx: dict[str, Any]) -> int:
    """Make pending commissions whose hold has ended available, batch after batch. A rerun
    finds nothing left to do."""
    svc: Services = ctx["services"]
    total = 0
    while True:
        async with transaction(svc.pool) as conn:
            n = await ledger.release_due(conn, svc.clock.now(), RELEASE_BATCH)
        total += n
        if n < RELEASE_BATCH:
            return total


async def on_order_paid(conn: asyncpg.Connection, order: hooks.OrderPaid) -> None:
    await ledger.accrue(conn, order)


async def on_order_refunded(conn: asyncpg.Connection, refund: hooks.OrderRefunded) -> None:
    await ledger.reverse(conn, refund)
