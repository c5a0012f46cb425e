"""Jobs of the games domain (registered by ``workers``). Each takes ids, reloads state and is
a no-op when there is nothing left to do."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from engagement.kit import metrics
from engagement.kit.constants import RELEASE_AFTER_END_SECONDS, SETTLE_STALE_SECONDS
from engagement.kit.db import transaction
from engagement.kit.jobs import Job, enqueue
from engagement.kit.state import Services
from games.campaigns import queries as campaign_queries
from games.campaigns import service
from games.draw import queries as draw_queries
from games.draw import service as draw_service
from games.draw import settlement
from games.partitions import service as partitions

log = logging.getLogger(__name__)


async def settle_draws(ctx: dict[str, Any], campaign_id: str) -> int:
    """Settle a campaign's unsettled wins, batch after batch, until none are left."""
    svc: Services = ctx["services"]
    total = 0
    while True:
        now = svc.clock.now()
        async with transaction(svc.pool) as conn:
            drawn_at = await settlement.settle_batch(conn, campaign_id, now,
                                                     svc.settings.settle_batch)
        # Committed: only now are these wins settled.
        for created in drawn_at:
            metrics.SETTLEMENT_LAG.observe(max(0.0, (now - created).total_seconds()))
        total += len(drawn_at)
        if not drawn_at:
            return total


async def release_reservations(ctx: dict[str, Any], campaign_id: str) -> int:
    svc: Services = ctx["services"]
    async with transaction(svc.pool) as conn:
        campaign = await draw_queries.campaign_by_id(conn, campaign_id, for_update=True)
        if campaign is None or campaign["status"] != "ended":
            return 0
        return await settlement.release_reservations(conn, campaign_id)


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    """The safety net: re-enqueue stale unsettled wins, end campaigns whose window closed,
    release reservations of ended campaigns that a lost job left held."""
    svc: Services = ctx["services"]
    now = svc.clock.now()
    stale = await draw_queries.campaigns_with_stale_wins(
        svc.pool, now - timedelta(seconds=SETTLE_STALE_SECONDS))
    minute = int(time.time()) // 60
    for campaign_id in stale:
        job = draw_service.SETTLE_JOB
        await enqueue(svc.redis, Job(job, (campaign_id,),
                                     job_id=f"{job}:{campaign_id}:sweep:{minute}"))
    ended = 0
    for row in await campaign_queries.campaigns_past_end(svc.pool, now):
        async with svc.unit() as unit:
            campaign = await draw_queries.campaign_by_id(unit.conn, row["id"], for_update=True)
            if campaign is None or campaign["status"] not in service.LIVE:
                continue
            await campaign_queries.set_status(unit.conn, row["id"], "ended", now)
            service.defer_release(unit, row["id"], now)
        await service.after_change(svc, row["id"], row["time_zone"])
        ended += 1
    released = 0
    for campaign_id in await campaign_queries.ended_unreleased(
            svc.pool, now - timedelta(seconds=RELEASE_AFTER_END_SECONDS)):
        released += await release_reservations(ctx, campaign_id)
    return {"resettled": len(stale), "ended": ended, "released": released}


async def maintain_draw_partitions(ctx: dict[str, Any]) -> dict[str, object]:
    """The draws table's monthly partitions: the coming months created, the default partition
    swept, old key claims purged, retention applied (games/partitions/service.py)."""
    svc: Services = ctx["services"]
    return await partitions.maintain(svc.pool, svc.settings, svc.clock.now())
