"""The enqueue facade: the one module outside ``workers/`` that imports arq. The import-linter
contract "arq" (pyproject.toml) holds engagement, games and referrals to that; the CLI
reaches arq only through ``workers/``.

Work that a transaction creates is deferred on its unit of work (``Unit.defer``) and sent
only after the commit (``unit_of_work``; a rollback drops it). Where no unit of work opens
the transaction, callers use ``enqueue`` directly, after their own commit: the draw hot
path (games/draw/service.py: its row is committed by the group-commit writer, and its
settlement job is coalesced per time bucket) and the sweepers (games/tasks.py,
engagement/loyalty/sends/tasks.py), which re-enqueue work PostgreSQL already records as
pending. Either way domains go through this module, never arq itself. Job ids are
deterministic (the settlement jobs' carry their time bucket or minute), so a retried request
does not queue the same work twice.

The queue is handed out typed as a plain redis client (it is one: ArqRedis subclasses it),
so no other module has to name arq.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import asyncpg
from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio import Redis

from engagement.kit.constants import QUEUE_NAME

log = logging.getLogger(__name__)


async def connect_queue(redis_url: str) -> Redis:
    """One Redis connection pool serves the queue and the app (ArqRedis is a redis client)."""
    return await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=QUEUE_NAME)


@dataclass(frozen=True)
class Job:
    name: str
    args: tuple[Any, ...]
    job_id: str | None = None
    defer_until: datetime | None = None


def _arq(queue: Redis) -> ArqRedis:
    assert isinstance(queue, ArqRedis), "a queue comes from connect_queue or the arq worker"
    return queue


async def enqueue(queue: Redis, job: Job) -> bool:
    """Enqueue one job; False when a job with the same id is already queued or running."""
    result = await _arq(queue).enqueue_job(
        job.name, *job.args, _job_id=job.job_id, _defer_until=job.defer_until
    )
    return result is not None


@dataclass
class Unit:
    """A transaction plus the jobs to send once it has committed."""

    conn: asyncpg.Connection
    jobs: list[Job] = field(default_factory=list)

    def defer(self, name: str, *args: Any, job_id: str | None = None,
              defer_until: datetime | None = None) -> None:
        self.jobs.append(Job(name, args, job_id, defer_until))


@asynccontextmanager
async def unit_of_work(pool: asyncpg.Pool, queue: Redis) -> AsyncIterator[Unit]:
    async with pool.acquire() as conn:
        async with conn.transaction():
            unit = Unit(cast(asyncpg.Connection, conn))
            yield unit
        # Committed. A lost enqueue is not lost work: PostgreSQL holds what is pending and
        # a sweeper re-enqueues it, so a failing Redis here is logged, not raised.
        for job in unit.jobs:
            try:
                await enqueue(queue, job)
            except Exception:
                log.exception("enqueue after commit failed for %s", job.name)
