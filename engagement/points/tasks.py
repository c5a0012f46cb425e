"""Jobs of the points domain (registered by ``workers``)."""

from __future__ import annotations

from typing import Any

from engagement.kit.db import transaction
from engagement.kit.state import Services
from engagement.points import service

# Members per transaction: short transactions, so a member's row lock is held briefly.
EXPIRE_BATCH = 200


async def expire_due(ctx: dict[str, Any]) -> int:
    """Take back what is left of credits past their expiry, batch by batch; a rerun (the
    daily cron, a retry) finds the settled credits and takes nothing twice."""
    svc: Services = ctx["services"]
    now = svc.clock.now()
    total, after = 0, None
    while True:
        async with transaction(svc.pool) as conn:
            n, after = await service.expire_due(conn, now, after, EXPIRE_BATCH)
        total += n
        if after is None:
            return total


async def purge_idempotent_responses(ctx: dict[str, Any]) -> int:
    svc: Services = ctx["services"]
    async with transaction(svc.pool) as conn:
        return await service.purge_idempotent_responses(conn, svc.clock.now())
