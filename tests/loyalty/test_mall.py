from __future__ import annotations

import asyncio
from typing import Any

import httpx

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from tests.factories import Factory, MemberHandle, MerchantHandle
from tests.loyalty.helpers import adjust, points


async def _reward(client: httpx.AsyncClient, factory: Factory, merchant: MerchantHandle, *,
                  cost: int = 100, stock: int = 10, template_stock: int = 100
                  ) -> dict[str, Any]:
    template = await factory.template(merchant, name="满500减50", stock=template_stock)
    r = await client.post("/api/v1/rewards", json={"coupon_template_id": template["id"],
                                                   "cost_points": cost, "stock": stock},
                          headers=merchant.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _redeem(client: httpx.AsyncClient, member: MemberHandle, reward_id: str,
                  key: str | None = None) -> httpx.Response:
    headers = dict(member.headers)
    if key:
        headers["Idempotency-Key"] = key
    return await client.post(f"/api/v1/rewards/{reward_id}/redemptions", headers=headers)


async def test_reward_creation_and_listing(client: httpx.AsyncClient, factory: Factory) -> None:
    merchant = await factory.merchant()
    bad = await client.post("/api/v1/rewards", json={"coupon_template_id": "tpl_nope",
                                                     "cost_points": 10, "stock": 1},
                            headers=merchant.headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "unknown_coupon_template"
    reward = await _reward(client, factory, merchant, stock=5)
    assert reward["available"] == 5 and reward["name"] == "满500减50"
    member = await factory.member(merchant)
    for headers in (merchant.headers, member.headers):
        r = await client.get("/api/v1/rewards", headers=headers)
        assert r.status_code == 200
        assert [i["id"] for i in r.json()["items"]] == [reward["id"]]
    other = await factory.merchant("Other")
    assert (await client.get("/api/v1/rewards", headers=other.headers)).json()["items"] == []
    r = await client.post("/api/v1/rewards", json={"coupon_template_id": "x"},
                          headers=member.headers)
    assert r.status_code == 403


async def test_redemption_takes_points_and_issues_the_coupon_once(
        client: httpx.AsyncClient, factory: Factory) -> None:
    merchant = await factory.merchant()
    reward = await _reward(client, factory, merchant, cost=100)
    member = await factory.member(merchant)
    short = await _redeem(client, member, reward["id"], key="a")
    assert short.status_code == 409
    assert short.json()["error"]["code"] == "insufficient_points"
    await adjust(client, member, 250)
    first = await _redeem(client, member, reward["id"], key="a")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["points_spent"] == 100 and body["balance"] == 150
    assert body["coupon"]["code"]
    again = await _redeem(client, member, reward["id"], key="a")
    assert again.status_code == 201 and again.json() == body
    coupons = (await client.get("/api/v1/me/coupons", headers=member.headers)).json()["items"]
    assert [c["code"] for c in coupons] == [body["coupon"]["code"]]
    assert (await points(client, member))["balance"] == 150
    r = await client.get("/api/v1/rewards", headers=member.headers)
    assert r.json()["items"][0]["redeemed"] == 1
    assert (await _redeem(client, member, "rwd_nope")).status_code == 404


async def test_concurrent_redemptions_never_oversell_nor_take_points_twice(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    merchant = await factory.merchant()
    reward = await _reward(client, factory, merchant, cost=100, stock=5)
    members = await factory.members_bulk(merchant, 12)
    for m in members:
        assert (await adjust(client, m, 300)).status_code == 201
    # Every member twice with one key (a double tap), and once more with another key.
    attempts = [(m, key) for m in members for key in ("k1", "k1", "k2")]
    results = await asyncio.gather(*(_redeem(client, m, reward["id"], key)
                                     for m, key in attempts))
    statuses = [r.status_code for r in results]
    assert set(statuses) <= {201, 409}
    assert all(r.json()["error"]["code"] == "reward_out_of_stock"
               for r in results if r.status_code == 409)
    pool = services.pool
    assert await pool.fetchval("SELECT count(*) FROM reward_redemptions") == 5
    assert await pool.fetchval("SELECT count(*) FROM coupons WHERE source = 'mall'") == 5
    assert await pool.fetchval("SELECT redeemed FROM rewards") == 5
    spent = await pool.fetchval("SELECT -sum(delta) FROM points_ledger WHERE reason = 'mall'")
    assert spent == 500
    total = await pool.fetchval("SELECT sum(points) FROM members")
    assert total == 12 * 300 - 500
    # Balances still equal the sum of each member's entries.
    assert await pool.fetchval(
        """SELECT count(*) FROM members m WHERE m.points <>
           (SELECT coalesce(sum(delta), 0) FROM points_ledger l WHERE l.member_id = m.id)""") == 0
    # The twin taps of one key answered the same.
    by_member: dict[str, set[str]] = {}
    for (m, key), r in zip(attempts, results, strict=True):
        if r.status_code == 201 and key == "k1":
            by_member.setdefault(m.id, set()).add(r.json()["id"])
    assert all(len(ids) == 1 for ids in by_member.values())


async def test_a_key_reused_after_its_response_was_purged_takes_nothing(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    from engagement.points import tasks

    merchant = await factory.merchant()
    reward = await _reward(client, factory, merchant, cost=100)
    member = await factory.member(merchant)
    await adjust(client, member, 300)
    assert (await _redeem(client, member, reward["id"], key="old")).status_code == 201
    clock.advance(days=3)
    assert await tasks.purge_idempotent_responses({"services": services}) >= 1
    r = await _redeem(client, member, reward["id"], key="old")
    assert r.status_code == 409 and r.json()["error"]["code"] == "redemption_conflict"
    assert (await points(client, member))["balance"] == 200
    assert await services.pool.fetchval("SELECT redeemed FROM rewards") == 1


async def test_sends_and_tiers_refuse_another_merchants_template(
        client: httpx.AsyncClient, factory: Factory) -> None:
    merchant, other = await factory.merchant(), await factory.merchant()
    foreign = await factory.template(other, stock=10)
    send = await client.post("/api/v1/sends", json={
        "name": "回馈", "coupon_template_id": foreign["id"]}, headers=merchant.headers)
    tiers = await client.put("/api/v1/tiers", json={"tiers": [
        {"name": "银卡", "min_points": 0, "window_days": 365},
        {"name": "金卡", "min_points": 100, "window_days": 365,
         "monthly_coupon_template_id": foreign["id"]}]}, headers=merchant.headers)
    for r, field in ((send, "coupon_template_id"),
                     (tiers, "tiers.1.monthly_coupon_template_id")):
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "unknown_coupon_template"
        assert error["details"]["fields"] == [{"field": field}]
    assert (await client.get("/api/v1/tiers", headers=merchant.headers)).json()["tiers"] == []
