"""Sends scheduled for later (scheduled_at), and the audience count of a segment."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from engagement.loyalty.sends import tasks
from tests.factories import Factory, MerchantHandle
from tests.loyalty.helpers import pay
from tests.worker import drain


async def _send(client: httpx.AsyncClient, merchant: MerchantHandle,
                **body: object) -> httpx.Response:
    return await client.post("/api/v1/sends", json=body, headers=merchant.headers)


async def _audience(client: httpx.AsyncClient, merchant: MerchantHandle,
                    **segment: object) -> int:
    r = await client.post("/api/v1/sends/audience", json={"segment": segment},
                          headers=merchant.headers)
    assert r.status_code == 200, r.text
    return int(r.json()["count"])


async def test_audience_counts_what_a_send_would_target(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    merchant = await factory.merchant()
    other = await factory.merchant("Other")
    await factory.member(other)
    quiet = [await factory.member(merchant) for _ in range(4)]
    busy = [await factory.member(merchant) for _ in range(2)]
    await factory.member(merchant, birthday="1990-11-23")  # today in Shanghai
    for n, member in enumerate(quiet):
        await pay(client, member, f"q-{n}", 5_000)
    clock.advance(days=61)
    for n, member in enumerate(busy):
        await pay(client, member, f"b-{n}", 5_000)
    assert await _audience(client, merchant) == 7
    # Not ordered in 60 days: the quiet four and the one who never ordered.
    assert await _audience(client, merchant, inactive_days=60) == 5
    assert await _audience(client, merchant, inactive_days=60, min_orders=1) == 4
    assert await _audience(client, merchant, min_orders=1, orders_within_days=30) == 2
    assert await _audience(client, merchant, birthday="today") == 0  # 61 days later
    clock.at = clock.at - timedelta(days=61)
    assert await _audience(client, merchant, birthday="today") == 1
    # The same count a send then targets.
    template = await factory.template(merchant)
    r = await _send(client, merchant, name="唤醒", coupon_template_id=template["id"],
                    segment={"min_orders": 1}, holdout_percent=0)
    await drain(services.settings, clock)
    got = await client.get(f"/api/v1/sends/{r.json()['id']}", headers=merchant.headers)
    assert got.json()["targeted"] == await _audience(client, merchant, min_orders=1) == 6
    # Bad segments are refused; member tokens and other merchants' keys get nothing.
    for bad in ({"orders_within_days": 30}, {"birthday": "tomorrow"}, {"inactive_days": -1},
                {"colour": "red"}):
        r = await client.post("/api/v1/sends/audience", json={"segment": bad},
                              headers=merchant.headers)
        assert r.status_code == 422, (bad, r.text)
    r = await client.post("/api/v1/sends/audience", json={}, headers=quiet[0].headers)
    assert r.status_code == 403


async def test_scheduled_send_waits_for_its_time_and_refuses_the_past(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    merchant = await factory.merchant()
    template = await factory.template(merchant)
    for _ in range(3):
        await factory.member(merchant)
    for when in (clock.now() - timedelta(minutes=1), clock.now()):
        r = await _send(client, merchant, name="x", coupon_template_id=template["id"],
                        scheduled_at=when.isoformat())
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    r = await _send(client, merchant, name="x", coupon_template_id=template["id"],
                    repeat="daily", scheduled_at=(clock.now() + timedelta(hours=1)).isoformat())
    assert r.status_code == 422
    assert await services.pool.fetchval("SELECT count(*) FROM sends") == 0
    at = clock.now() + timedelta(hours=2)
    r = await _send(client, merchant, name="周末唤醒", coupon_template_id=template["id"],
                    holdout_percent=0, scheduled_at=at.isoformat())
    assert r.status_code == 202 and r.json()["status"] == "scheduled", r.text
    send_id = r.json()["id"]
    ctx = {"services": services}
    clock.advance(hours=1, minutes=59)
    assert await tasks.release_due(ctx) == 0
    await drain(services.settings, clock)
    got = (await client.get(f"/api/v1/sends/{send_id}", headers=merchant.headers)).json()
    assert (got["status"], got["issued"]) == ("scheduled", 0)
    assert got["scheduled_at"].startswith(at.strftime("%Y-%m-%dT%H:%M"))
    clock.advance(minutes=1)
    assert await tasks.release_due(ctx) == 1
    await drain(services.settings, clock)
    got = (await client.get(f"/api/v1/sends/{send_id}", headers=merchant.headers)).json()
    assert (got["status"], got["targeted"], got["issued"]) == ("done", 3, 3)


async def test_two_workers_release_each_scheduled_send_exactly_once(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    merchant = await factory.merchant()
    template = await factory.template(merchant, stock=1000)
    members = [await factory.member(merchant) for _ in range(6)]
    at = clock.now() + timedelta(minutes=30)
    ids = []
    for n in range(5):
        r = await _send(client, merchant, name=f"定时 {n}", coupon_template_id=template["id"],
                        holdout_percent=0, scheduled_at=at.isoformat())
        ids.append(r.json()["id"])
    clock.advance(minutes=31)
    ctx = {"services": services}
    # Many release ticks at once, each on its own connection, then two real workers at once.
    released = await asyncio.gather(*[tasks.release_due(ctx) for _ in range(12)])
    assert sum(released) == 5
    await asyncio.gather(drain(services.settings, clock), drain(services.settings, clock))
    for send_id in ids:
        got = (await client.get(f"/api/v1/sends/{send_id}", headers=merchant.headers)).json()
        assert (got["status"], got["targeted"], got["issued"]) == ("done", 6, 6)
    # Each member got one coupon per send, no more; the template counted each once.
    per_member = await services.pool.fetch(
        "SELECT member_id, count(*) AS n FROM coupons WHERE source = 'send' GROUP BY member_id")
    assert sorted(r["n"] for r in per_member) == [5] * len(members)
    assert await services.pool.fetchval(
        "SELECT issued FROM coupon_templates WHERE id = $1", template["id"]) == 30
