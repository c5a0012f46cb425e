"""Stock reconciliation (games/reconcile) on the real servers: a counter changed behind the
service's back is seen in /metrics and on the dashboard; set back, it is raised to
PostgreSQL's count; ahead, it is flagged and left alone; lost hot state is rebuilt; and
draws in flight are never repaired."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from games.draw.protocol import CampaignKeys
from games.reconcile.service import reconcile
from tests.console.helpers import Console
from tests.engagement.test_metrics import AUTH, TOKEN, Samples, parse, value
from tests.factories import Factory, MemberHandle


@pytest.fixture
def quick(services: Services) -> Services:
    """A short grace: these tests' draws are all written before reconciling."""
    services.settings = services.settings.model_copy(update={
        "reconcile_grace_seconds": 0.05, "metrics_token": SecretStr(TOKEN)})
    return services


async def _campaign(shop: Console, factory: Factory, quantity: int) -> tuple[str, str]:
    """A campaign whose every draw wins, while its prize lasts."""
    template = await factory.template(shop.merchant, stock=quantity)
    campaign = await factory.campaign(shop.merchant, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": template["id"],
         "quantity": quantity, "weight": 1}])
    return campaign["id"], campaign["prizes"][0]["id"]


async def _draw_all(factory: Factory, members: list[MemberHandle], campaign_id: str
                    ) -> list[dict[str, Any]]:
    responses = await asyncio.gather(*[factory.draw(m, campaign_id) for m in members])
    assert all(r.status_code == 201 for r in responses), responses[0].text
    return [r.json() for r in responses]


async def _drift(client: httpx.AsyncClient) -> Samples:
    r = await client.get("/metrics", headers=AUTH)
    assert r.status_code == 200, r.text
    return parse(r.text)


async def _recorded(services: Services, prize_id: str) -> int:
    return int(await services.pool.fetchval(
        "SELECT count(*) FROM draws WHERE prize_id = $1 AND outcome = 'win'", prize_id))


async def _counter(services: Services, campaign_id: str, prize_id: str) -> int:
    return int(await services.redis.hget(CampaignKeys.of(campaign_id).wins, prize_id) or 0)


async def test_a_counter_set_back_is_seen_and_raised_to_the_record(
        shop: Console, factory: Factory, quick: Services, client: httpx.AsyncClient) -> None:
    services = quick
    campaign_id, prize_id = await _campaign(shop, factory, 20)
    members = await factory.members_bulk(shop.merchant, 6)
    await _draw_all(factory, members, campaign_id)
    clean = await reconcile(services)
    assert (clean.campaigns, clean.repaired, clean.flagged) == (1, 0, 0)
    series = {"campaign": campaign_id, "prize": prize_id}
    assert value(before := await _drift(client), "engagement_stock_drift", **series) == 0
    assert ("engagement_stock_drift", tuple(sorted(series.items()))) in before

    # Behind the service's back: Redis forgets four wins and the prize's quantity.
    keys = CampaignKeys.of(campaign_id)
    await services.redis.hset(keys.wins, prize_id, 2)
    await services.redis.hdel(keys.qty, prize_id)
    report = await reconcile(services)
    assert (report.repaired, report.flagged, report.reprimed) == (2, 0, 0)
    assert await _counter(services, campaign_id, prize_id) == 6
    assert int(await services.redis.hget(keys.qty, prize_id)) == 20
    after = await _drift(client)
    assert value(after, "engagement_stock_drift", **series) == -4
    for kind in ("wins", "quantity"):
        assert value(after, "engagement_stock_repairs_total", kind=kind) == \
            value(before, "engagement_stock_repairs_total", kind=kind) + 1
    panel = (await shop.get(f"/console/campaigns/{campaign_id}/panel")).text
    assert 'data-stock-repair="wins"' in panel and 'data-stock-repair="quantity"' in panel
    assert "少于数据库记录（6）" in panel and "data-stock-drift" not in panel
    english = (await shop.get(f"/console/campaigns/{campaign_id}/panel?lang=en")).text
    assert "fewer wins of “10元券” (2) than the database records (6)" in english

    # Repaired, the next draw wins with the next number: without the repair its number
    # would have been taken, and PostgreSQL would have turned it into a lose.
    (nxt,) = await _draw_all(factory, members[:1], campaign_id)
    assert nxt["outcome"] == "win"
    assert await _recorded(services, prize_id) == await _counter(services, campaign_id,
                                                                 prize_id) == 7
    await reconcile(services)
    assert value(await _drift(client), "engagement_stock_drift", **series) == 0


async def test_redis_ahead_of_the_record_is_flagged_and_left_alone(
        shop: Console, factory: Factory, quick: Services, client: httpx.AsyncClient,
        clock: FrozenClock) -> None:
    services = quick
    campaign_id, prize_id = await _campaign(shop, factory, 10)
    await _draw_all(factory, await factory.members_bulk(shop.merchant, 3), campaign_id)
    keys = CampaignKeys.of(campaign_id)
    await services.redis.hincrby(keys.wins, prize_id, 2)
    report = await reconcile(services)
    assert (report.repaired, report.flagged) == (0, 1)
    assert await _counter(services, campaign_id, prize_id) == 5  # not lowered
    series = {"campaign": campaign_id, "prize": prize_id}
    assert value(await _drift(client), "engagement_stock_drift", **series) == 2
    url = f"/console/campaigns/{campaign_id}/panel"
    panel = (await shop.get(url)).text
    assert 'data-stock-drift="2"' in panel
    assert "实时计数为已中出 5 次，数据库只记录了 3 次（11-23 12:00 起）" in panel
    english = (await shop.get(f"{url}?lang=en")).text
    assert "was won 5 times, the database records 3 (since 11-23 12:00)" in english
    # Seen again later: still flagged, since the first time it was seen.
    clock.advance(minutes=3)
    await reconcile(services)
    assert "(since 11-23 12:00)" in (await shop.get(url)).text  # English, as chosen above
    since = await services.pool.fetchval("SELECT drifting_since FROM stock_drift")
    assert since == clock.now().replace(minute=0)
    # Put right (as the operator would, once no draw is in flight): the warning goes.
    await services.redis.hincrby(keys.wins, prize_id, -2)
    await reconcile(services)
    assert value(await _drift(client), "engagement_stock_drift", **series) == 0
    assert "data-stock-drift" not in (await shop.get(url)).text


async def test_lost_hot_state_is_rebuilt_from_the_record(
        shop: Console, factory: Factory, quick: Services) -> None:
    services = quick
    campaign_id, prize_id = await _campaign(shop, factory, 10)
    await _draw_all(factory, await factory.members_bulk(shop.merchant, 4), campaign_id)
    # The campaign's every key (the console's session stays: it lives in Redis too).
    tag = CampaignKeys.of(campaign_id).tag
    await services.redis.delete(*[k async for k in services.redis.scan_iter(f"{tag}*")])
    report = await reconcile(services)
    assert (report.reprimed, report.repaired, report.flagged) == (1, 0, 0)
    assert await services.redis.exists(CampaignKeys.of(campaign_id).meta)
    assert await _counter(services, campaign_id, prize_id) == 4
    panel = (await shop.get(f"/console/campaigns/{campaign_id}/panel")).text
    assert 'data-stock-repair="reprimed"' in panel and "按数据库重建" in panel


async def test_draws_in_flight_are_never_repaired(
        shop: Console, factory: Factory, services: Services) -> None:
    """Draws running while the reconciliation runs, and draws whose rows are held up in
    PostgreSQL: nothing is repaired, Redis is never set back, every win is counted once."""
    services.settings = services.settings.model_copy(update={"reconcile_grace_seconds": 0.5})
    campaign_id, prize_id = await _campaign(shop, factory, 300)
    members = await factory.members_bulk(shop.merchant, 40)

    async def rounds() -> list[dict[str, Any]]:
        drawn: list[dict[str, Any]] = []
        for _ in range(4):
            drawn += await _draw_all(factory, members, campaign_id)
        return drawn

    async def reconciling() -> list[Any]:
        reports = []
        for _ in range(3):
            reports.append(await reconcile(services))
        return reports

    drawn, reports = await asyncio.gather(rounds(), reconciling())
    assert all((r.repaired, r.reprimed, r.flagged) == (0, 0, 0) for r in reports), reports
    assert sum(d["outcome"] == "win" for d in drawn) == 160
    assert await _recorded(services, prize_id) == await _counter(services, campaign_id,
                                                                 prize_id) == 160

    # Rows held up: a lock on draws keeps five draws between their script and their
    # commit for as long as the reconciliation looks.
    services.settings = services.settings.model_copy(update={"reconcile_grace_seconds": 0.05})
    async with services.pool.acquire() as blocker:
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute("LOCK TABLE draws IN SHARE ROW EXCLUSIVE MODE")
        held = [asyncio.create_task(factory.draw(m, campaign_id)) for m in members[:5]]
        for _ in range(500):  # until their scripts have run
            if await _counter(services, campaign_id, prize_id) == 165:
                break
            await asyncio.sleep(0.01)
        report = await reconcile(services)
        assert (report.repaired, report.reprimed, report.flagged) == (0, 0, 1)
        assert await _counter(services, campaign_id, prize_id) == 165  # left as it is
        await lock.rollback()
    assert all(r.json()["outcome"] == "win" for r in await asyncio.gather(*held))
    report = await reconcile(services)
    assert (report.repaired, report.flagged) == (0, 0)
    assert await _recorded(services, prize_id) == 165
    assert await services.pool.fetchval(
        "SELECT count(DISTINCT win_seq) FROM draws WHERE prize_id = $1", prize_id) == 165


def test_the_worker_runs_the_reconciliation_every_minute() -> None:
    from workers.settings import CRON_JOBS

    (job,) = [c for c in CRON_JOBS if c.name == "cron:games.reconcile"]
    assert job.second == {45} and job.minute is None and job.unique
