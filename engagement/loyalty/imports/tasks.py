"""Jobs of member imports (registered by ``workers``)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from engagement.kit.db import transaction
from engagement.kit.jobs import Job, enqueue
from engagement.kit.state import Services
from engagement.loyalty.imports import csvfile, queries, service

# A batch that lost a race (a deadlock with another import over the same members, a phone
# another run took between the check and the write) is rolled back and tried again; the
# retry sees the other run's committed rows.
RETRIES = 5
RETRIED = (asyncpg.DeadlockDetectedError, asyncpg.UniqueViolationError,
           asyncpg.SerializationError)


async def run(ctx: dict[str, Any], import_id: str) -> int:
    """Apply an import batch by batch; returns how many batches this run applied. Each
    batch commits with the import's counters, so a rerun (a retry, the sweeper) resumes."""
    svc: Services = ctx["services"]
    body = await queries.stored_file(svc.pool, import_id)
    if body is None:
        return 0
    parsed = csvfile.parse(body)  # the upload read this file already: it parses
    batches = 0
    while True:
        for attempt in range(RETRIES):
            try:
                async with transaction(svc.pool) as conn:
                    more = await service.apply_batch(conn, import_id, parsed,
                                                     svc.clock.now())
                break
            except RETRIED:
                if attempt == RETRIES - 1:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
        if not more:
            return batches
        batches += 1


async def sweep(ctx: dict[str, Any]) -> int:
    """Re-enqueue imports not done (a lost enqueue, a crashed worker); an import's job id
    is deterministic, so one already queued or running is not queued twice."""
    svc: Services = ctx["services"]
    ids = await queries.pending_ids(svc.pool)
    for import_id in ids:
        await enqueue(svc.redis, Job(service.RUN_JOB, (import_id,),
                                     f"{service.RUN_JOB}:{import_id}"))
    return len(ids)
