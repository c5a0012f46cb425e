"""The asyncpg pool and the one place transactions are opened."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(typ, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Connections go back to the pool as they are: the code never changes session state
    (no LISTEN, advisory locks, SET or cursors), so asyncpg's reset query would be a wasted
    round trip on every request."""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        # Statements are few and fixed; caching them per connection is the point.
        statement_cache_size=256,
        command_timeout=30,
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One transaction per request or job; services take the connection and never commit."""
    async with pool.acquire() as conn, conn.transaction():
        yield cast(asyncpg.Connection, conn)
