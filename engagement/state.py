"""What a request or a job needs from the process: pool, Redis, settings, clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from arq.connections import ArqRedis

from engagement.clock import Clock
from engagement.config import Settings
from engagement.jobs import Unit, unit_of_work


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    redis: ArqRedis
    clock: Clock
    secret_key: str

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        async with unit_of_work(self.pool, self.redis) as unit:
            yield unit
