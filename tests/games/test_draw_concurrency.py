"""Invariants 1-3 under real concurrency: no oversell, limits hold, one draw per key."""

from __future__ import annotations

import asyncio
import random

import pytest

from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings
from engagement.kit.state import Services
from tests.factories import Factory
from tests.worker import drain


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_two_thousand_draws_never_oversell(factory: Factory, services: Services,
                                                 settings: Settings, clock: FrozenClock,
                                                 seed: int) -> None:
    rng = random.Random(seed)
    shop = await factory.merchant()
    stock = rng.choice([50, 80, 200])
    tpl = await factory.template(shop, stock=stock)
    # Demand far above supply: almost every draw lands on the coupon.
    campaign = await factory.campaign(shop, [
        {"name": "免单券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 50,
         "weight": rng.randint(50, 100)},
        {"name": "谢谢参与", "kind": "nothing", "weight": rng.randint(1, 5)}])
    prize_id = campaign["prizes"][0]["id"]
    members = await factory.members_bulk(shop, 500)
    requests = [m for m in members for _ in range(4)]
    rng.shuffle(requests)
    responses = await asyncio.gather(*[factory.draw(m, campaign["id"]) for m in requests])
    assert all(r.status_code == 201 for r in responses), {r.status_code for r in responses}
    wins = [r.json() for r in responses if r.json()["outcome"] == "win"]
    assert len(wins) == 50
    assert all(w["prize"]["id"] == prize_id for w in wins)

    await drain(settings, clock)
    pool = services.pool
    assert await pool.fetchval("SELECT count(*) FROM draws WHERE outcome = 'win'") == 50
    assert await pool.fetchval("SELECT count(*) FROM coupons") == 50
    assert await pool.fetchval("SELECT count(DISTINCT draw_id) FROM coupons") == 50
    got = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}",
                                    headers=shop.headers)).json()
    assert got["prizes"][0]["remaining"] == 0
    template = (await factory.client.get(f"/api/v1/coupon-templates/{tpl['id']}",
                                         headers=shop.headers)).json()
    assert template["issued"] == 50 and template["reserved"] == 0
    assert template["available"] == stock - 50
    stats = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}/stats",
                                      headers=shop.headers)).json()
    assert stats["draws"] == 2000 and stats["players"] == 500
    assert stats["wins"] == {prize_id: 50}
    assert stats["coupons_issued"] == 50 and stats["unsettled"] == 0


async def test_one_member_hundred_concurrent_draws_limit_three(
        factory: Factory, services: Services, clock: FrozenClock) -> None:
    shop = await factory.merchant()  # Asia/Shanghai by default; clock is 12:00 there
    campaign = await factory.campaign(shop, [{"name": "谢谢参与", "kind": "nothing", "weight": 1}],
                                      limits={"per_member_per_day": 3})
    member = await factory.member(shop)
    responses = await asyncio.gather(*[factory.draw(member, campaign["id"]) for _ in range(100)])
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 3 and statuses.count(409) == 97
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "draw_limit_reached"}
    assert sorted(r.json()["remaining"]["today"] for r in responses if r.status_code == 201) \
        == [0, 1, 2]
    assert await services.pool.fetchval("SELECT count(*) FROM draws") == 3

    clock.advance(hours=11, minutes=59)  # 23:59 in Shanghai: still the same day
    assert (await factory.draw(member, campaign["id"])).status_code == 409
    clock.advance(minutes=1)  # midnight in Shanghai (16:00 UTC): a new day
    again = await asyncio.gather(*[factory.draw(member, campaign["id"]) for _ in range(10)])
    assert sorted(r.status_code for r in again) == [201] * 3 + [409] * 7


async def test_day_follows_the_merchants_time_zone(factory: Factory,
                                                   clock: FrozenClock) -> None:
    shop = await factory.merchant(time_zone="America/New_York")  # 23:00 on the 22nd there
    campaign = await factory.campaign(shop, [{"name": "谢谢参与", "kind": "nothing", "weight": 1}],
                                      limits={"per_member_per_day": 1})
    member = await factory.member(shop)
    assert (await factory.draw(member, campaign["id"])).status_code == 201
    clock.advance(minutes=59)
    assert (await factory.draw(member, campaign["id"])).status_code == 409
    clock.advance(minutes=1)  # midnight in New York, but still the same day in Shanghai
    assert (await factory.draw(member, campaign["id"])).status_code == 201


async def test_total_limit_holds_across_days(factory: Factory, clock: FrozenClock) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [{"name": "谢谢参与", "kind": "nothing", "weight": 1}],
                                      limits={"per_member_per_day": 2, "per_member_total": 3})
    member = await factory.member(shop)
    day1 = await asyncio.gather(*[factory.draw(member, campaign["id"]) for _ in range(5)])
    assert sorted(r.status_code for r in day1) == [201, 201, 409, 409, 409]
    clock.advance(days=1)
    day2 = await asyncio.gather(*[factory.draw(member, campaign["id"]) for _ in range(5)])
    assert sorted(r.status_code for r in day2) == [201, 409, 409, 409, 409]
    last = next(r for r in day2 if r.status_code == 201).json()
    assert last["remaining"] == {"today": 1, "total": 0}


async def test_same_idempotency_key_fifty_times_is_one_draw(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop)
    campaign = await factory.campaign(shop, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 10,
         "weight": 1}, {"name": "谢谢参与", "kind": "nothing", "weight": 1}])
    member = await factory.member(shop)
    responses = await asyncio.gather(*[factory.draw(member, campaign["id"], key="tap-1")
                                       for _ in range(50)])
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert await services.pool.fetchval("SELECT count(*) FROM draws") == 1
    later = await factory.draw(member, campaign["id"], key="tap-1")
    assert later.status_code == 201 and later.content == responses[0].content
    other = await factory.draw(member, campaign["id"], key="tap-2")
    assert other.json()["id"] != responses[0].json()["id"]
    headers = {**member.headers, "Idempotency-Key": "tap-1"}
    reused = await factory.client.post(f"/api/v1/campaigns/{campaign['id']}/draws",
                                       json={"note": "different body"}, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert await services.pool.fetchval("SELECT count(*) FROM draws") == 2


async def test_burst_guard_answers_429_with_retry_after(factory: Factory,
                                                       settings: Settings) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [{"name": "谢谢参与", "kind": "nothing", "weight": 1}])
    member = await factory.member(shop)
    n = settings.draw_rate_limit + 5
    responses = await asyncio.gather(*[factory.draw(member, campaign["id"]) for _ in range(n)])
    limited = [r for r in responses if r.status_code == 429]
    assert len(limited) == 5
    assert limited[0].json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited[0].headers["retry-after"]) <= settings.draw_rate_window_seconds


async def test_entry_cost_is_taken_with_the_draw_and_given_back_when_refused(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [{"name": "谢谢参与", "kind": "nothing", "weight": 1}],
                                      entry_cost_points=10, limits={"per_member_per_day": 2})
    member = await factory.member(shop)
    await services.pool.execute("UPDATE members SET points = 25 WHERE id = $1", member.id)
    responses = await asyncio.gather(*[factory.draw(member, campaign["id"]) for _ in range(6)])
    assert sorted(r.status_code for r in responses) == [201, 201, 409, 409, 409, 409]
    assert await services.pool.fetchval("SELECT points FROM members WHERE id = $1",
                                        member.id) == 5
    assert await services.pool.fetchval(
        "SELECT sum(delta) FROM points_ledger WHERE member_id = $1", member.id) == -20
    # Not enough points for a third draw on the next day: refused, nothing taken or counted.
    services.clock.advance(days=1)  # type: ignore[attr-defined]
    poor = await factory.draw(member, campaign["id"])
    assert poor.status_code == 409 and poor.json()["error"]["code"] == "insufficient_points"
    assert await services.pool.fetchval("SELECT points FROM members WHERE id = $1",
                                        member.id) == 5
    await services.pool.execute("UPDATE members SET points = 100 WHERE id = $1", member.id)
    both = await asyncio.gather(*[factory.draw(member, campaign["id"]) for _ in range(2)])
    assert [r.status_code for r in both] == [201, 201]  # the refused draw used no limit


async def test_prime_after_redis_loss_keeps_limits(factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [{"name": "谢谢参与", "kind": "nothing", "weight": 1}],
                                      limits={"per_member_per_day": 2})
    member = await factory.member(shop)
    assert (await factory.draw(member, campaign["id"])).status_code == 201
    await services.redis.flushdb()
    await services.redis.script_flush()  # a restarted Redis has lost its scripts too
    assert (await factory.draw(member, campaign["id"])).status_code == 201
    assert (await factory.draw(member, campaign["id"])).status_code == 409
    stats = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}/stats",
                                      headers=shop.headers)).json()
    assert stats["draws"] == 2 and stats["players"] == 1


