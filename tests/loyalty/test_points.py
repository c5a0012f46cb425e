from __future__ import annotations

import httpx

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from tests.factories import Factory
from tests.loyalty.helpers import adjust, pay, points, set_program
from tests.worker import drain


async def test_program_validates_and_changes_nothing_on_bad_input(
        client: httpx.AsyncClient, factory: Factory) -> None:
    merchant = await factory.merchant()
    r = await client.put("/api/v1/points-program", json={"earn": {"per_amount": 0,
                                                                  "points": 1}},
                         headers=merchant.headers)
    assert r.status_code == 422
    assert (await client.get("/api/v1/points-program",
                             headers=merchant.headers)).status_code == 404
    program = await set_program(client, merchant, join_bonus=100, expiry_days=365)
    assert program["earn"] == {"per_amount": 100, "points": 1}
    r = await client.get("/api/v1/points-program", headers=merchant.headers)
    assert r.json()["join_bonus"] == 100


async def test_join_bonus_and_earning_on_paid_orders(client: httpx.AsyncClient,
                                                     factory: Factory) -> None:
    merchant = await factory.merchant()
    await set_program(client, merchant, join_bonus=100, expiry_days=30)
    member = await factory.member(merchant)
    r = await client.get(f"/api/v1/members/{member.id}", headers=merchant.headers)
    assert r.json()["points"] == 100
    await pay(client, member, "o-1", 12_345)  # 123 points: whole ¥ only
    # Posting the same order again is a replay: no second earning.
    await client.post("/api/v1/orders", json={"id": "o-1", "member_id": member.id,
                                              "amount": 12_345}, headers=merchant.headers)
    page = await points(client, member)
    assert page["balance"] == 223
    assert [(i["delta"], i["reason"]) for i in page["items"]] == [(123, "order"),
                                                                  (100, "join_bonus")]
    assert all(i["expires_at"] for i in page["items"])
    me = await client.get("/api/v1/me/points", headers=member.headers)
    assert me.status_code == 200 and me.json()["balance"] == 223
    # A member token on the merchant endpoint is 403; another merchant's key is 404.
    assert (await client.get(f"/api/v1/members/{member.id}/points",
                             headers=member.headers)).status_code == 403
    other = await factory.merchant("Other")
    assert (await client.get(f"/api/v1/members/{member.id}/points",
                             headers=other.headers)).status_code == 404


async def test_no_program_no_points(client: httpx.AsyncClient, factory: Factory) -> None:
    merchant = await factory.merchant()
    member = await factory.member(merchant)
    await pay(client, member, "o-1", 10_000)
    assert (await points(client, member))["balance"] == 0


async def test_refunds_take_back_earned_points_in_proportion(client: httpx.AsyncClient,
                                                             factory: Factory) -> None:
    merchant = await factory.merchant()
    await set_program(client, merchant)
    member = await factory.member(merchant)
    await pay(client, member, "o-1", 10_000)  # 100 points
    for amount, key in ((3_333, "r1"), (3_333, "r2"), (3_334, "r3")):
        r = await client.post("/api/v1/orders/o-1/refunds", json={"amount": amount},
                              headers={**merchant.headers, "Idempotency-Key": key})
        assert r.status_code == 201, r.text
    # A retried refund is a replay: nothing taken twice.
    await client.post("/api/v1/orders/o-1/refunds", json={"amount": 3_334},
                      headers={**merchant.headers, "Idempotency-Key": "r3"})
    page = await points(client, member)
    assert page["balance"] == 0
    assert sorted(i["delta"] for i in page["items"] if i["reason"] == "refund") == [-34, -33, -33]


async def test_refund_of_spent_points_stops_at_zero(client: httpx.AsyncClient,
                                                    factory: Factory) -> None:
    merchant = await factory.merchant()
    await set_program(client, merchant)
    member = await factory.member(merchant)
    await pay(client, member, "o-1", 10_000)
    assert (await adjust(client, member, -80)).status_code == 201
    r = await client.post("/api/v1/orders/o-1/refunds", json={"amount": 10_000},
                          headers=merchant.headers)
    assert r.status_code == 201
    assert (await points(client, member))["balance"] == 0


async def test_manual_adjustments_are_idempotent_and_never_below_zero(
        client: httpx.AsyncClient, factory: Factory) -> None:
    merchant = await factory.merchant()
    member = await factory.member(merchant)
    first = await adjust(client, member, 50, key="k1")
    assert first.status_code == 201 and first.json()["balance"] == 50
    again = await adjust(client, member, 50, key="k1")
    assert again.status_code == 201 and again.json() == first.json()
    reused = await adjust(client, member, 60, key="k1")
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    short = await adjust(client, member, -51, key="k2")
    assert short.status_code == 409
    assert short.json()["error"]["code"] == "insufficient_points"
    assert (await adjust(client, member, 0)).status_code == 422
    # The refused debit left its key free and changed nothing.
    page = await points(client, member)
    assert page["balance"] == 50 and len(page["items"]) == 1
    assert (await adjust(client, member, -50, key="k2")).json()["balance"] == 0
    other = await factory.merchant("Other")
    r = await client.post(f"/api/v1/members/{member.id}/points",
                          json={"delta": 5, "reason": "x"}, headers=other.headers)
    assert r.status_code == 404


async def test_expiry_takes_what_is_left_oldest_first_and_only_once(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    from engagement.points import tasks

    merchant = await factory.merchant()
    await set_program(client, merchant, expiry_days=30)
    member = await factory.member(merchant)
    await pay(client, member, "o-1", 10_000)  # 100, expires day 30
    clock.advance(days=10)
    await pay(client, member, "o-2", 5_000)  # 50, expires day 40
    assert (await adjust(client, member, -70)).status_code == 201  # takes 70 of the first
    ctx = {"services": services}
    clock.advance(days=5)
    assert await tasks.expire_due(ctx) == 0
    clock.advance(days=16)  # day 31: the first credit is due, 30 of it left
    assert await tasks.expire_due(ctx) == 30
    assert await tasks.expire_due(ctx) == 0  # a rerun takes nothing twice
    assert (await points(client, member))["balance"] == 50
    assert (await adjust(client, member, -20)).status_code == 201
    clock.advance(days=10)  # day 41: the second credit is due, 30 of it left
    await services.redis.enqueue_job("points.expire_due", _job_id="points.expire_due:t")
    await drain(services.settings, clock)
    page = await points(client, member)
    assert page["balance"] == 0
    assert sorted(i["delta"] for i in page["items"] if i["reason"] == "expired") == [-30, -30]


async def test_idempotency_keys_are_kept_two_days_then_purged(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    from engagement.points import tasks

    merchant = await factory.merchant()
    member = await factory.member(merchant)
    assert (await adjust(client, member, 10, key="k")).status_code == 201
    clock.advance(hours=24)
    assert await tasks.purge_idempotent_responses({"services": services}) == 0
    assert (await adjust(client, member, 10, key="k")).json()["balance"] == 10  # a replay
    clock.advance(hours=25)
    assert await tasks.purge_idempotent_responses({"services": services}) == 1


async def test_loyalty_endpoints_are_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path, method in (("/api/v1/points-program", "put"),
                         ("/api/v1/members/{member_id}/points", "get"),
                         ("/api/v1/members/{member_id}/points", "post"),
                         ("/api/v1/me/points", "get"), ("/api/v1/rewards", "post"),
                         ("/api/v1/rewards", "get"),
                         ("/api/v1/rewards/{reward_id}/redemptions", "post"),
                         ("/api/v1/tiers", "put"), ("/api/v1/sends", "post"),
                         ("/api/v1/sends/{send_id}", "get"), ("/api/v1/webhooks", "post"),
                         ("/api/v1/webhooks/{webhook_id}/deliveries", "get")):
        assert method in paths[path], (path, method)
