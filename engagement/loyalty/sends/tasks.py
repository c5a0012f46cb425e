"""Jobs of the sends domain (registered by ``workers``)."""

from __future__ import annotations

from typing import Any

import asyncpg

from engagement.kit.db import transaction
from engagement.kit.jobs import Job, enqueue
from engagement.kit.state import Services
from engagement.loyalty.sends import queries, service


async def run(ctx: dict[str, Any], send_id: str) -> int:
    """Issue a send's coupons; returns how many this run issued. Each step commits on its
    own, and a rerun (a retry, the sweeper) resumes where the last one stopped."""
    svc: Services = ctx["services"]
    now = svc.clock.now()
    async with transaction(svc.pool) as conn:
        send = await service.choose_targets(conn, send_id, now)
    if send is None:
        return 0
    total = 0
    while True:
        try:
            async with transaction(svc.pool) as conn:
                n = await service.issue_batch(conn, send, now)
        except asyncpg.CheckViolationError:  # the template ran out of stock
            async with transaction(svc.pool) as conn:
                await service.fail(conn, send_id, "insufficient_inventory", now)
            return total
        total += n
        if n == 0:
            break
    async with transaction(svc.pool) as conn:
        await service.finish(conn, send_id, now)
    return total


async def schedule_daily(ctx: dict[str, Any]) -> int:
    """Daily (birthday sends and the like): today's run of every daily send."""
    svc: Services = ctx["services"]
    async with svc.unit() as unit:
        return await service.schedule_daily_runs(unit, svc.clock.now())


async def release_due(ctx: dict[str, Any]) -> int:
    """Every minute: scheduled one-off sends whose time has come go out, each once."""
    svc: Services = ctx["services"]
    async with svc.unit() as unit:
        return await service.release_due(unit, svc.clock.now())


async def sweep(ctx: dict[str, Any]) -> int:
    """Re-enqueue sends left queued or running (a lost enqueue, a crashed worker); a send's
    job id is deterministic, so one already queued is not queued twice."""
    svc: Services = ctx["services"]
    ids = await queries.pending_ids(svc.pool)
    for send_id in ids:
        await enqueue(svc.redis, Job(service.RUN_JOB, (send_id,),
                                     f"{service.RUN_JOB}:{send_id}"))
    return len(ids)
