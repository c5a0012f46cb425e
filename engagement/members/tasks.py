"""Jobs of the members domain (registered by ``workers``)."""

from __future__ import annotations

from typing import Any

from engagement.kit.db import transaction
from engagement.kit.state import Services
from engagement.members import service


async def purge_expired_tokens(ctx: dict[str, Any]) -> int:
    svc: Services = ctx["services"]
    async with transaction(svc.pool) as conn:
        return await service.purge_expired_tokens(conn, svc.clock.now())
