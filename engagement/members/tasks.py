"""Jobs of the members domain (registered by ``workers``)."""

from __future__ import annotations

from typing import Any

from engagement.db import transaction
from engagement.members import service
from engagement.state import Services


async def purge_expired_tokens(ctx: dict[str, Any]) -> int:
    svc: Services = ctx["services"]
    async with transaction(svc.pool) as conn:
        return await service.purge_expired_tokens(conn, svc.clock.now())
