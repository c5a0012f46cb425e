"""Test servers: real PostgreSQL and Redis.

With ENGAGEMENT_DATABASE_URL / ENGAGEMENT_REDIS_URL set (CI), each run creates its own
database on that server and uses a dedicated Redis database number; with none set, embedded
servers start in a temporary directory. Each test starts from empty tables and empty Redis.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import psutil
import pytest
from redis.asyncio import Redis

from engagement.app import create_app
from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings
from engagement.kit.embedded import EmbeddedServers
from engagement.kit.migrate import apply_migrations
from engagement.kit.state import Services
from tests.console.helpers import Console, console
from tests.factories import Factory

TEST_REDIS_DB = int(os.environ.get("ENGAGEMENT_TEST_REDIS_DB", "15"))


def _worker_redis_db() -> int:
    """The Redis database of this test process: ENGAGEMENT_TEST_REDIS_DB, one lower for each
    further pytest-xdist worker (gw1 uses 14, ...), as each flushes its own between tests."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return TEST_REDIS_DB - int(worker.removeprefix("gw") or 0)


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
        yield test_db, _with_redis_db(redis_url or embedded.redis_url or "", _worker_redis_db())
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(settings: Settings, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a real `engagement` process on the tests' database and Redis."""
    assert settings.database_url and settings.redis_url
    return {**os.environ, "ENGAGEMENT_DATABASE_URL": settings.database_url,
            "ENGAGEMENT_REDIS_URL": settings.redis_url, "ENGAGEMENT_DATA_DIR": str(data_dir),
            "ENGAGEMENT_SECRET_KEY": "test-secret-key", "ENGAGEMENT_LOG_LEVEL": "WARNING",
            **extra}


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until the server at ``base`` answers /readyz; its log if it dies first."""
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the server did not become ready"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def web_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[tuple[str, psutil.Process]]:
    """`engagement serve` in its own process, on the tests' database and Redis, for what
    only a real server shows (its memory, its HTTP parser, a fuzzer's traffic)."""
    tmp_path = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = server_env(settings, tmp_path, ENGAGEMENT_PUBLIC_URL=f"http://127.0.0.1:{port}")
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engagement.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc, tmp_path / "serve.log")
        yield base, psutil.Process(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# Signed-in console sessions of two merchants, for the console's tests and CSRF's.

@pytest.fixture
async def shop(app: object, factory: Factory, services: Services) -> AsyncIterator[Console]:
    c = await console(app, factory, services, "拾光咖啡", "owner@shiguang.example")
    try:
        yield c
    finally:
        await c.client.aclose()


@pytest.fixture
async def rival(app: object, factory: Factory, services: Services) -> AsyncIterator[Console]:
    c = await console(app, factory, services, "隔壁奶茶", "boss@rival.example")
    try:
        yield c
    finally:
        await c.client.aclose()
