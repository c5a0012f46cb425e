"""What a request or a job needs from the process: pool, Redis, settings, clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from cachetools import TTLCache
from redis.asyncio import Redis
from starlette.requests import Request

from engagement.kit.clock import Clock
from engagement.kit.config import Settings
from engagement.kit.constants import MEMBER_TOKEN_CACHE_SECONDS
from engagement.kit.jobs import Unit, unit_of_work


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    redis: Redis  # also the job queue (engagement.kit.jobs.connect_queue makes it)
    clock: Clock
    secret_key: str
    # Member-token lookups, so a member's burst of draws costs one PostgreSQL read.
    principals: TTLCache[bytes, Any] = field(
        default_factory=lambda: TTLCache(maxsize=50_000, ttl=MEMBER_TOKEN_CACHE_SECONDS))
    # Per-process helpers a domain keeps beside the pool (e.g. the draw writer), by name.
    local: dict[str, Any] = field(default_factory=dict)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        async with unit_of_work(self.pool, self.redis) as unit:
            yield unit


def services(request: Request) -> Services:
    """The process's services, which the app factory puts on the app's state."""
    svc: Services = request.app.state.services
    return svc
