"""A real local Redis Cluster (3 masters, engagement/kit/local_cluster.py) for the session,
and for this package's module two `engagement serve` processes and two `engagement worker`
processes with ENGAGEMENT_REDIS_CLUSTER_URL set, on the tests' PostgreSQL database and
standalone Redis (the queue). Everything started here is stopped at the end."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from engagement.kit.config import Settings
from engagement.kit.local_cluster import LocalCluster
from engagement.kit.state import Services
from tests.conftest import free_port, server_env, wait_ready
from tests.factories import Factory, MemberHandle


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[LocalCluster]:
    with LocalCluster(masters=3) as cluster:
        yield cluster


@dataclass
class Deployment:
    bases: list[str]  # the two web processes
    cluster: LocalCluster
    workers: list[subprocess.Popen[bytes]]


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "engagement.cli", *args], env=env,
                                stdout=out, stderr=out)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def deployment(settings: Settings, local_cluster: LocalCluster,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("cluster")
    # Small pools: four processes beside the tests' own, on a server others share too.
    env = server_env(settings, tmp, ENGAGEMENT_REDIS_CLUSTER_URL=local_cluster.url,
                     ENGAGEMENT_WORKER_POLL_DELAY="0.01", ENGAGEMENT_DB_POOL_MIN="1",
                     ENGAGEMENT_DB_POOL_MAX="6", ENGAGEMENT_WORKER_MAX_JOBS="4")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    ports = [free_port(), free_port()]
    procs = [_start(["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                    env, tmp / f"serve-{port}.log") for port in ports]
    workers = [_start(["worker"], env, tmp / f"worker-{i}.log") for i in range(2)]
    procs += workers
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, port in zip(bases, ports, strict=True):
            wait_ready(base, procs[ports.index(port)], tmp / f"serve-{port}.log")
        ready = httpx.get(f"{bases[0]}/readyz").json()
        assert ready["checks"]["redis_cluster"] == "ok", ready
        yield Deployment(bases, local_cluster, workers)
        for i, worker in enumerate(workers):
            assert worker.poll() is None, (tmp / f"worker-{i}.log").read_text()
    finally:
        _stop(procs)


class Balanced:
    """Requests taking turns between the two web processes, at most 64 in flight (httpx's
    pool spends more CPU on thousands of waiting requests than the servers do on them)."""

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self.clients = clients
        self._n = 0
        self._in_flight = asyncio.Semaphore(64)

    def next(self) -> httpx.AsyncClient:
        self._n += 1
        return self.clients[self._n % len(self.clients)]

    async def draw(self, member: MemberHandle, campaign_id: str, key: str | None = None
                   ) -> httpx.Response:
        headers = dict(member.headers)
        if key:
            headers["Idempotency-Key"] = key
        client = self.next()
        async with self._in_flight:
            return await client.post(f"/api/v1/campaigns/{campaign_id}/draws",
                                     headers=headers)


@pytest.fixture
async def web(deployment: Deployment) -> AsyncIterator[Balanced]:
    clients = [httpx.AsyncClient(base_url=base, timeout=60) for base in deployment.bases]
    try:
        yield Balanced(clients)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


@pytest.fixture
def made(web: Balanced, services: Services) -> Factory:
    """Test data made through the first web process (campaigns published there are primed
    on the cluster) and the tests' own pool."""
    return Factory(web.clients[0], services)
