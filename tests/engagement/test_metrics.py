"""GET /metrics: who may read it, the counts moving with real draws, settlements and webhook
deliveries, and N processes (``serve --workers 2`` and a worker) reporting as one."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings
from engagement.kit.constants import QUEUE_NAME
from engagement.kit.state import Services
from engagement.loyalty.webhooks import tasks as webhook_tasks
from tests.conftest import free_port, server_env, wait_ready
from tests.factories import Factory, MerchantHandle
from tests.loyalty.helpers import pay
from tests.loyalty.receiver import Receiver, serve
from tests.worker import drain

TOKEN = "scrape-token-of-the-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(client: httpx.AsyncClient) -> Samples:
    r = await client.get("/metrics", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return parse(r.text)


def _configure(services: Services, **update: object) -> None:
    services.settings = services.settings.model_copy(update=update)


@pytest.fixture
def token(services: Services) -> Services:
    _configure(services, metrics_token=SecretStr(TOKEN))
    return services


def _client(app: object, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40_000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_metrics_are_not_there_unless_a_token_or_an_allowlist_is_configured(
        client: httpx.AsyncClient) -> None:
    r = await client.get("/metrics", headers=AUTH)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert Settings(_env_file=None, metrics_token="  ").metrics_token is None  # type: ignore[call-arg]


async def test_a_token_is_asked_for(client: httpx.AsyncClient, token: Services) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                    {"Authorization": "Bearer "}, {"Authorization": f"Basic {TOKEN}"}):
        r = await client.get("/metrics", headers=headers)
        assert r.status_code == 401, headers
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["www-authenticate"].startswith("Bearer")
    r = await client.get("/metrics", headers=AUTH)
    assert r.status_code == 200
    assert "engagement_draws_total" in r.text and "engagement_queue_depth" in r.text


async def test_an_allowlist_admits_its_scrapers_by_the_trusted_client_address(
        app: object, services: Services) -> None:
    _configure(services, metrics_allow=(ip_network("10.0.0.0/8"), ip_network("fd00::/8")))
    async with _client(app, "127.0.0.1") as outside, _client(app, "10.1.2.3") as inside, \
            _client(app, "fd00::7") as inside6:
        r = await outside.get("/metrics")
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert (await inside.get("/metrics")).status_code == 200
        assert (await inside6.get("/metrics")).status_code == 200
        # Anyone can write X-Forwarded-For: believed only from a trusted proxy.
        forged = {"X-Forwarded-For": "10.9.9.9"}
        assert (await outside.get("/metrics", headers=forged)).status_code == 403
        _configure(services, trusted_proxies=(ip_network("127.0.0.1/32"),))
        assert (await outside.get("/metrics", headers=forged)).status_code == 200
        assert (await outside.get("/metrics", headers={
            "X-Forwarded-For": "192.168.1.1"})).status_code == 403
        # Both configured: both must hold.
        _configure(services, metrics_token=SecretStr(TOKEN))
        assert (await inside.get("/metrics")).status_code == 401
        assert (await inside.get("/metrics", headers=AUTH)).status_code == 200
        assert (await _client(app, "127.0.0.2").get("/metrics",
                                                     headers=AUTH)).status_code == 403


async def _half_and_half(factory: Factory, shop: MerchantHandle) -> str:
    campaign = await factory.campaign(shop, [
        {"name": "10 积分", "kind": "points", "points": 10, "quantity": 1000, "weight": 1},
        {"name": "谢谢参与", "kind": "nothing", "weight": 1}])
    return str(campaign["id"])


async def test_draws_settlement_and_the_queue_move_the_metrics(
        client: httpx.AsyncClient, factory: Factory, token: Services,
        clock: FrozenClock) -> None:
    services = token
    shop = await factory.merchant()
    campaign_id = await _half_and_half(factory, shop)
    members = await factory.members_bulk(shop, 10)
    before = await scrape(client)
    responses = await asyncio.gather(*[factory.draw(m, campaign_id, key=f"k-{i}-{m.id}")
                                       for m in members for i in range(4)])
    assert all(r.status_code == 201 for r in responses), responses[0].text
    outcomes = [r.json()["outcome"] for r in responses]
    # A replay is answered (and timed) but is not a new draw.
    replay = await factory.draw(members[0], campaign_id, key=f"k-0-{members[0].id}")
    assert replay.status_code in (200, 201) and replay.json() == responses[0].json()
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    wins = outcomes.count("win")
    assert 0 < wins < 40  # both outcomes really happened
    assert delta("engagement_draws_total", outcome="win") == wins
    assert delta("engagement_draws_total", outcome="lose") == 40 - wins
    assert delta("engagement_draw_duration_seconds_count") == 41
    assert delta("engagement_draw_duration_seconds_bucket", le="+Inf") == 41
    assert delta("engagement_draw_duration_seconds_sum") > 0
    unsettled = await services.pool.fetchval(
        "SELECT count(*) FROM draws WHERE outcome = 'win' AND settled_at IS NULL")
    assert value(after, "engagement_unsettled_draws") == unsettled == wins
    queued = await services.redis.zcard(QUEUE_NAME)
    assert queued > 0 and value(after, "engagement_queue_depth") == queued

    clock.advance(seconds=3)
    await drain(services.settings, clock)
    settled = await scrape(client)
    assert value(settled, "engagement_unsettled_draws") == 0
    assert value(settled, "engagement_queue_depth") == 0
    lag = (value(settled, "engagement_settlement_lag_seconds_count")
           - value(after, "engagement_settlement_lag_seconds_count"))
    assert lag == wins
    # The frozen clock moved 3 s between the draws and their settlement.
    assert value(settled, "engagement_settlement_lag_seconds_bucket", le="2.5") == \
        value(after, "engagement_settlement_lag_seconds_bucket", le="2.5")
    assert (value(settled, "engagement_settlement_lag_seconds_sum")
            - value(after, "engagement_settlement_lag_seconds_sum")) == pytest.approx(3 * wins)


async def test_webhook_deliveries_are_counted_by_result(
        client: httpx.AsyncClient, factory: Factory, token: Services,
        clock: FrozenClock) -> None:
    services = token
    _configure(services, webhooks_allow_private_targets=True)
    shop = await factory.merchant()
    before = await scrape(client)
    async with serve(Receiver(always_fail=True)) as receiver:
        r = await client.post("/api/v1/webhooks", json={"url": receiver.url,
                                                        "events": ["order.paid"]},
                              headers=shop.headers)
        assert r.status_code == 201, r.text
        member = await factory.member(shop)
        await pay(client, member, "o-1", 10_000)
        ctx = {"services": services}
        await webhook_tasks.deliver_due(ctx)
        retrying = await scrape(client)
        for _ in range(12):  # every retry of its schedule, then it is given up
            clock.advance(days=2)
            await webhook_tasks.deliver_due(ctx)
        attempts = len(receiver.requests)
    failed = await scrape(client)
    async with serve(Receiver()) as receiver:
        r = await client.post("/api/v1/webhooks", json={"url": receiver.url,
                                                        "events": ["order.paid"]},
                              headers=shop.headers)
        await pay(client, member, "o-2", 10_000)
        await webhook_tasks.deliver_due(ctx)
        assert len(receiver.requests) == 1
    delivered = await scrape(client)

    def moved(a: Samples, b: Samples, result: str) -> float:
        name = "engagement_webhook_deliveries_total"
        return value(b, name, result=result) - value(a, name, result=result)

    assert moved(before, retrying, "retrying") == 1
    assert moved(before, retrying, "failed") == moved(before, retrying, "delivered") == 0
    assert moved(before, failed, "retrying") == attempts - 1
    assert moved(before, failed, "failed") == 1
    # The second endpoint's delivery; the first endpoint (failing, order o-2) retries.
    assert moved(failed, delivered, "delivered") == 1
    status = await services.pool.fetch("SELECT status FROM webhook_deliveries ORDER BY id")
    assert sorted(s["status"] for s in status).count("failed") == 1


# Two web processes and a worker, sharing one directory: one scrape shows all of them.

def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "engagement.cli", *args], env=env,
                                stdout=out, stderr=out)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _draws_per_process(directory: Path) -> dict[int, float]:
    """What each process's own file holds (prometheus-client's layout: counter_<pid>.db)."""
    counts: dict[int, float] = {}
    for file in directory.glob("counter_*.db"):
        pid = int(file.stem.split("_")[-1])
        for key, val, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(file)):
            _metric, sample, _labels, _help = json.loads(key)
            if sample == "engagement_draws_total":
                counts[pid] = counts.get(pid, 0) + val
    return counts


@pytest.fixture
def processes(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_999999999.db").write_bytes(b"left by a process long gone")
    port = free_port()
    env = server_env(settings, tmp_path, ENGAGEMENT_METRICS_TOKEN=TOKEN,
                     PROMETHEUS_MULTIPROC_DIR=str(directory))
    web = _start(["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                 env, tmp_path / "serve.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, web, tmp_path / "serve.log")
        yield base, env, directory
    finally:
        _stop(web)


async def test_two_web_processes_and_a_worker_report_as_one(
        processes: tuple[str, dict[str, str], Path], services: Services,
        tmp_path: Path) -> None:
    base, env, directory = processes
    assert not (directory / "counter_999999999.db").exists()  # cleaned at start
    # No keep-alive: each request a new connection, which either process may accept.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        factory = Factory(http, services)
        shop = await factory.merchant()
        campaign_id = await _half_and_half(factory, shop)
        members = [await factory.member(shop) for _ in range(10)]
        before = await scrape(http)
        outcomes: list[str] = []
        for _ in range(10):  # rounds of concurrent draws until both processes drew
            responses = await asyncio.gather(*[factory.draw(m, campaign_id) for m in members])
            assert all(r.status_code == 201 for r in responses), responses[0].text
            outcomes += [r.json()["outcome"] for r in responses]
            per_process = {p: n for p, n in _draws_per_process(directory).items() if n}
            if len(per_process) >= 2:
                break
        assert len(per_process) == 2, per_process
        n, wins = len(outcomes), outcomes.count("win")
        assert sum(per_process.values()) == n
        after = await scrape(http)
        assert (value(after, "engagement_draws_total", outcome="win")
                - value(before, "engagement_draws_total", outcome="win")) == wins
        assert (value(after, "engagement_draws_total", outcome="lose")
                - value(before, "engagement_draws_total", outcome="lose")) == n - wins
        assert (value(after, "engagement_draw_duration_seconds_count")
                - value(before, "engagement_draw_duration_seconds_count")) == n
        assert value(after, "engagement_unsettled_draws") == wins > 0

        worker = _start(["worker"], env, tmp_path / "worker.log")
        try:
            deadline = time.monotonic() + 60
            while value(settled := await scrape(http), "engagement_unsettled_draws"):
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()
                assert time.monotonic() < deadline, "the worker did not settle the wins"
                await asyncio.sleep(0.2)
            # The worker settles, the web processes report it (after its commit, so wait).
            while value(settled, "engagement_settlement_lag_seconds_count") < wins:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
                settled = await scrape(http)
            assert value(settled, "engagement_settlement_lag_seconds_count") == wins
        finally:
            _stop(worker)


def test_run_makes_a_temporary_directory_for_its_processes_and_removes_it(
        settings: Settings, tmp_path: Path) -> None:
    """Without PROMETHEUS_MULTIPROC_DIR, `engagement run` gives its web process and worker
    a directory of their own, and removes it when it stops."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    port = free_port()
    assert settings.database_url and settings.redis_url
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(ENGAGEMENT_DATABASE_URL=settings.database_url,
               ENGAGEMENT_REDIS_URL=settings.redis_url, ENGAGEMENT_DATA_DIR=str(tmp_path),
               ENGAGEMENT_SECRET_KEY="test-secret-key", ENGAGEMENT_METRICS_TOKEN=TOKEN,
               ENGAGEMENT_PORT=str(port), TMPDIR=str(temp))
    proc = _start(["run"], env, tmp_path / "run.log")
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            dirs = list(temp.glob("engagement-metrics-*"))
            pids = {int(f.stem.split("_")[-1]) for d in dirs for f in d.glob("*.db")}
            children = {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=AUTH,
                                  timeout=1).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready and len(dirs) == 1 and len(pids & children) >= 2:
                break  # the web process and the worker both write there
            assert time.monotonic() < deadline, (dirs, pids, children)
            time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=40) == 0
        assert not dirs[0].exists()
    finally:
        _stop(proc)
