"""What a request or a job needs from the process: pool, Redis (and the cluster of campaigns'
hot state, if any), settings, clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
from cachetools import TTLCache
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from starlette.requests import Request

from engagement.kit.clock import Clock
from engagement.kit.config import Settings
from engagement.kit.constants import MEMBER_TOKEN_CACHE_SECONDS
from engagement.kit.hot_redis import HotRedis
from engagement.kit.jobs import Unit, unit_of_work

T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    redis: Redis  # also the job queue (engagement.kit.jobs.connect_queue makes it)
    clock: Clock
    secret_key: str
    # Campaigns' hot state on a Redis Cluster (ENGAGEMENT_REDIS_CLUSTER_URL); None: on
    # ``redis``. Read it through ``hot``.
    cluster: RedisCluster | None = None
    # Member-token lookups, so a member's burst of draws costs one PostgreSQL read.
    principals: TTLCache[bytes, Any] = field(
        default_factory=lambda: TTLCache(maxsize=50_000, ttl=MEMBER_TOKEN_CACHE_SECONDS))
    # Per-process helpers a domain keeps beside the pool and Redis (the draw writer, the
    # draw scripts), one of each class: see ``helper``.
    _helpers: dict[type, Any] = field(default_factory=dict, repr=False)

    @property
    def hot(self) -> HotRedis:
        """Where campaigns' hot state lives (engagement/kit/hot_redis.py): the cluster when
        one is configured, else the standalone Redis."""
        return self.redis if self.cluster is None else self.cluster

    def helper(self, kind: type[T], make: Callable[[], T]) -> T:
        """This process's one ``kind``, made on first use. Keyed by the class itself, so
        two domains cannot collide on a name and the caller gets its own type back."""
        found = self._helpers.get(kind)
        if found is None:
            found = self._helpers[kind] = make()
        return found

    async def close_helpers(self) -> None:
        """Close what the helpers hold open (those with an ``aclose``), at shutdown."""
        for found in self._helpers.values():
            close = getattr(found, "aclose", None)
            if close is not None:
                await close()
        self._helpers.clear()

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        async with unit_of_work(self.pool, self.redis) as unit:
            yield unit


def services(request: Request) -> Services:
    """The process's services, which the app factory puts on the app's state."""
    svc: Services = request.app.state.services
    return svc
