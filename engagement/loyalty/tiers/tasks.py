"""Jobs of the tiers domain (registered by ``workers``)."""

from __future__ import annotations

from typing import Any

from engagement.kit.db import transaction
from engagement.kit.state import Services
from engagement.loyalty.tiers import queries, service


async def evaluate(ctx: dict[str, Any]) -> dict[str, int]:
    """Daily: every merchant's members to the tier they qualify for, one transaction per
    merchant; a rerun on the same day finds nothing to do."""
    svc: Services = ctx["services"]
    now = svc.clock.now()
    moved = given = 0
    for merchant in await queries.merchants_with_tiers(svc.pool):
        async with transaction(svc.pool) as conn:
            m, g = await service.evaluate(conn, merchant["id"], merchant["time_zone"], now)
        moved, given = moved + m, given + g
    return {"moved": moved, "coupons": given}
