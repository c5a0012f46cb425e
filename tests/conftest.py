"""Test servers: real PostgreSQL and Redis.

With ENGAGEMENT_DATABASE_URL / ENGAGEMENT_REDIS_URL set (CI), each run creates its own
database on that server and uses a dedicated Redis database number; with none set, embedded
servers start in a temporary directory. Each test starts from empty tables and empty Redis.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from engagement.app import create_app
from engagement.clock import FrozenClock
from engagement.config import Settings
from engagement.embedded import EmbeddedServers
from engagement.migrate import apply_migrations
from engagement.state import Services
from tests.factories import Factory

TEST_REDIS_DB = int(os.environ.get("ENGAGEMENT_TEST_REDIS_DB", "15"))


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _with_redis_db(url: str, db: int) -> str:
    if url.startswith("unix://"):
        return url.split("?")[0] + f"?db={db}"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


@pytest.fixture(scope="session")
def server_urls() -> Iterator[tuple[str, str]]:
    db_url = os.environ.get("ENGAGEMENT_DATABASE_URL")
    redis_url = os.environ.get("ENGAGEMENT_REDIS_URL")
    embedded = EmbeddedServers(Path(tempfile.mkdtemp(prefix="engagement-test-")))
    embedded.start(postgres=not db_url, redis=not redis_url)
    admin_url = db_url or embedded.database_url
    assert admin_url
    name = f"engagement_test_{secrets.token_hex(4)}"

    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    test_db = _with_database(admin_url, name)
    apply_migrations(test_db)
    try:
        yield test_db, _with_redis_db(redis_url or embedded.redis_url or "", TEST_REDIS_DB)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        embedded.stop()


@pytest.fixture(scope="session")
def settings(server_urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Settings:
    db_url, redis_url = server_urls
    return Settings(database_url=db_url, redis_url=redis_url,
                    data_dir=tmp_path_factory.mktemp("data"), secret_key="test-secret-key",
                    public_url="http://testserver", worker_poll_delay=0.01)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 23, 4, 0, tzinfo=UTC))  # 12:00 in Shanghai


@pytest.fixture
async def app(settings: Settings, clock: FrozenClock) -> AsyncIterator[object]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        services: Services = application.state.services
        await _reset(services.pool, services.redis)
        yield application


async def _reset(pool: asyncpg.Pool, redis: Redis) -> None:
    tables = await pool.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename NOT LIKE '\\_yoyo%' AND tablename NOT LIKE 'yoyo%'")
    if tables:
        names = ", ".join(f'"{t["tablename"]}"' for t in tables)
        await pool.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    await redis.flushdb()


@pytest.fixture
def services(app: object) -> Services:
    svc: Services = app.state.services  # type: ignore[attr-defined]
    return svc


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def factory(client: httpx.AsyncClient, services: Services) -> Factory:
    return Factory(client, services)
