from __future__ import annotations

import httpx

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from engagement.loyalty.tiers import tasks
from tests.factories import Factory, MemberHandle
from tests.loyalty.helpers import pay, set_program
from tests.worker import drain


async def _tier(client: httpx.AsyncClient, member: MemberHandle) -> str | None:
    r = await client.get(f"/api/v1/members/{member.id}", headers=member.merchant.headers)
    tier: str | None = r.json()["tier"]
    return tier


async def _coupons(client: httpx.AsyncClient, member: MemberHandle) -> int:
    r = await client.get("/api/v1/me/coupons", headers=member.headers)
    return len([c for c in r.json()["items"] if c["source"] == "tier"])


async def test_tiers_validate_and_change_nothing_on_bad_input(client: httpx.AsyncClient,
                                                              factory: Factory) -> None:
    merchant = await factory.merchant()
    ok = {"name": "银卡", "min_points": 100, "window_days": 365}
    for bad in ({"name": "x", "window_days": 30},
                {"name": "x", "min_points": 1, "min_spend": 1, "window_days": 30},
                {"name": "x", "min_points": 1, "window_days": 30,
                 "monthly_coupon_template_id": "tpl_nope"}):
        r = await client.put("/api/v1/tiers", json={"tiers": [ok, bad]},
                             headers=merchant.headers)
        assert r.status_code == 422, r.text
    r = await client.put("/api/v1/tiers", json={"tiers": [ok, ok]}, headers=merchant.headers)
    assert r.status_code == 422
    assert (await client.get("/api/v1/tiers", headers=merchant.headers)).json() == {"tiers": []}


async def test_upgrade_monthly_coupon_and_downgrade_on_schedule(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    merchant = await factory.merchant()
    await set_program(client, merchant)  # 1 point per ¥1
    template = await factory.template(merchant, name="金卡月券")
    r = await client.put("/api/v1/tiers", json={"tiers": [
        {"name": "银卡", "min_points": 100, "window_days": 30},
        {"name": "金卡", "min_spend": 50_000, "window_days": 30,
         "monthly_coupon_template_id": template["id"]},
    ]}, headers=merchant.headers)
    assert r.status_code == 200, r.text
    assert [t["name"] for t in r.json()["tiers"]] == ["银卡", "金卡"]
    gold, silver, plain = [await factory.member(merchant) for _ in range(3)]
    await pay(client, gold, "g-1", 60_000)
    await pay(client, silver, "s-1", 15_000)
    await pay(client, plain, "p-1", 5_000)
    assert await _tier(client, gold) is None  # nothing moves before the daily job
    ctx = {"services": services}
    assert await tasks.evaluate(ctx) == {"moved": 2, "coupons": 1}
    assert (await _tier(client, gold), await _tier(client, silver),
            await _tier(client, plain)) == ("金卡", "银卡", None)
    assert await tasks.evaluate(ctx) == {"moved": 0, "coupons": 0}  # same day: nothing
    assert await _coupons(client, gold) == 1
    # A refund below the threshold downgrades at the next evaluation, not before.
    clock.advance(days=10)  # Dec 3: a new month, still gold
    await tasks.evaluate(ctx)
    assert await _coupons(client, gold) == 2
    r = await client.post("/api/v1/orders/g-1/refunds", json={"amount": 20_000},
                          headers=merchant.headers)
    assert r.status_code == 201
    assert await _tier(client, gold) == "金卡"
    clock.advance(days=1)
    await services.redis.enqueue_job("tiers.evaluate", _job_id="tiers.evaluate:t")
    await drain(services.settings, clock)
    assert await _tier(client, gold) == "银卡"  # 400 points earned, 40_000 net spend
    assert await _coupons(client, gold) == 2
    clock.advance(days=25)  # the window has passed: everyone drops out
    assert (await tasks.evaluate(ctx))["moved"] == 2
    assert (await _tier(client, gold), await _tier(client, silver)) == (None, None)
    changes = await services.pool.fetch(
        "SELECT from_tier, to_tier FROM tier_changes WHERE member_id = $1 ORDER BY id", gold.id)
    assert [(c["from_tier"], c["to_tier"]) for c in changes] == [
        (None, "金卡"), ("金卡", "银卡"), ("银卡", None)]
