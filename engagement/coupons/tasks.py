from __future__ import annotations

from typing import Any

from engagement.coupons import service
from engagement.kit.db import transaction
from engagement.kit.state import Services


async def expire_due(ctx: dict[str, Any]) -> int:
    """Mark coupons past their expiry as expired, in batches until none are left."""
    svc: Services = ctx["services"]
    total = 0
    while True:
        async with transaction(svc.pool) as conn:
            n = await service.expire_due(conn, svc.clock.now())
        total += n
        if n == 0:
            return total
