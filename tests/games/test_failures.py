"""Invariants 3 and 4 when things die: a worker killed mid-settlement, Redis flushed
mid-campaign."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings
from engagement.kit.state import Services
from games import tasks
from tests.factories import Factory


def _start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ENGAGEMENT_DATABASE_URL=settings.database_url or "",
               ENGAGEMENT_REDIS_URL=settings.redis_url or "",
               ENGAGEMENT_DATA_DIR=str(settings.data_dir), ENGAGEMENT_SECRET_KEY="x" * 32,
               ENGAGEMENT_SETTLE_BATCH="10", ENGAGEMENT_LOG_LEVEL="WARNING")
    return subprocess.Popen([sys.executable, "-m", "engagement.cli", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _wait_for(predicate, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    try:
        async with asyncio.timeout(seconds):
            while not await predicate():  # noqa: ASYNC110 (polls another process)
                await asyncio.sleep(0.01)
    except TimeoutError:
        return False
    return True


async def test_worker_killed_mid_settlement_every_win_gets_one_coupon(
        factory: Factory, services: Services, settings: Settings) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=1500)
    campaign = await factory.campaign(shop, [
        {"name": "必中券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 1500,
         "weight": 1}])
    members = await factory.members_bulk(shop, 300)
    responses = await asyncio.gather(*[factory.draw(m, campaign["id"])
                                       for m in members for _ in range(5)])
    assert all(r.json()["outcome"] == "win" for r in responses)
    pool = services.pool

    async def coupons() -> int:
        return int(await pool.fetchval("SELECT count(*) FROM coupons"))

    worker = _start_worker(settings)
    try:
        assert await _wait_for(lambda: _positive(coupons), 60)
        # What compose's health check reads: the running worker keeps this key fresh (it
        # is written between polls, so a worker busy starting a backlog writes it later).
        assert await _wait_for(lambda: services.redis.exists("arq:queue:health-check"), 30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    killed_at = await coupons()
    assert 0 < killed_at < 1500, killed_at  # it really died in the middle

    worker = _start_worker(settings)  # its sweeper finds the stale wins
    try:
        async def all_settled() -> bool:
            return await coupons() == 1500 and not await pool.fetchval(
                "SELECT count(*) FROM draws WHERE settled_at IS NULL")

        assert await _wait_for(all_settled, 90)
    finally:
        worker.terminate()
        worker.wait(30)
    assert await pool.fetchval("SELECT count(DISTINCT draw_id) FROM coupons") == 1500
    assert await pool.fetchval(
        "SELECT issued FROM coupon_templates WHERE id = $1", tpl["id"]) == 1500
    assert await pool.fetchval(
        "SELECT reserved FROM coupon_templates WHERE id = $1", tpl["id"]) == 0


async def _positive(count) -> bool:  # type: ignore[no-untyped-def]
    return bool(await count() > 0)


async def test_redis_flushed_mid_campaign_reprimes_and_never_oversells(
        factory: Factory, services: Services, clock: FrozenClock) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=50)
    campaign = await factory.campaign(shop, [
        {"name": "免单券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 50,
         "weight": 1},
        {"name": "谢谢参与", "kind": "nothing", "weight": 9}])
    members = await factory.members_bulk(shop, 400)
    pool = services.pool

    async def flush_midway() -> None:
        async def enough() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM draws") >= 150)

        assert await _wait_for(enough, 60)
        await services.redis.flushdb()

    first = asyncio.gather(*[factory.draw(m, campaign["id"]) for m in members])
    await asyncio.gather(first, flush_midway())
    second = await asyncio.gather(*[factory.draw(m, campaign["id"])
                                    for m in members for _ in range(3)])
    assert {r.status_code for r in second} == {201}
    wins = await pool.fetchval("SELECT count(*) FROM draws WHERE outcome = 'win'")
    assert wins == 50
    # The flush also emptied the job queue: the sweeper's safety net settles everything.
    clock.advance(seconds=10)
    await tasks.sweep({"services": services})
    await tasks.settle_draws({"services": services}, campaign["id"])
    assert await pool.fetchval("SELECT count(*) FROM coupons") == 50
    template = (await factory.client.get(f"/api/v1/coupon-templates/{tpl['id']}",
                                         headers=shop.headers)).json()
    assert (template["issued"], template["reserved"], template["available"]) == (50, 0, 0)
