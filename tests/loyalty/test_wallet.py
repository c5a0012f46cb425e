"""Stored value (储值), first part: top-up plans, top-ups with the best plan's bonus, and
balances as the sum of an append-only ledger. Money is integer cents; a retried top-up
credits once, also twenty at once; bad input is a 422 with the field and changes nothing."""

from __future__ import annotations

import asyncio

from engagement.kit.state import Services
from tests.factories import Factory, MerchantHandle

PLANS = {"plans": [{"pay": 20000, "bonus": 1000}, {"pay": 50000, "bonus": 5000},
                   {"pay": 100000, "bonus": 15000}], "spend_order": "principal_first"}


async def _plans(factory: Factory, shop: MerchantHandle) -> None:
    r = await factory.client.put("/api/v1/top-up-plans", json=PLANS, headers=shop.headers)
    assert r.status_code == 200, r.text


async def _ledger(services: Services, member_id: str) -> tuple[int, int, int]:
    row = await services.pool.fetchrow(
        """SELECT count(*) AS n, coalesce(sum(principal), 0) AS p, coalesce(sum(bonus), 0) AS b
           FROM balance_ledger WHERE member_id = $1""", member_id)
    return int(row["n"]), int(row["p"]), int(row["b"])


async def test_plans_are_replaced_and_read_back_cheapest_first(factory: Factory) -> None:
    shop = await factory.merchant()
    got = (await factory.client.get("/api/v1/top-up-plans", headers=shop.headers)).json()
    assert got == {"plans": [], "spend_order": "principal_first"}
    await _plans(factory, shop)
    r = await factory.client.put("/api/v1/top-up-plans", headers=shop.headers, json={
        "plans": [{"pay": 50000, "bonus": 8000}, {"pay": 30000, "bonus": 3000}],
        "spend_order": "bonus_first"})
    assert r.status_code == 200
    got = (await factory.client.get("/api/v1/top-up-plans", headers=shop.headers)).json()
    assert [(p["pay"], p["bonus"]) for p in got["plans"]] == [(30000, 3000), (50000, 8000)]
    assert got["spend_order"] == "bonus_first"


async def test_bad_plans_are_refused_and_change_nothing(factory: Factory) -> None:
    shop = await factory.merchant()
    await _plans(factory, shop)
    for body in ({"plans": [{"pay": 0, "bonus": 0}]},
                 {"plans": [{"pay": 1000, "bonus": 2000}]},  # more bonus than pay
                 {"plans": [{"pay": 1000, "bonus": 1}, {"pay": 1000, "bonus": 2}]},
                 {"plans": [{"pay": 10_000_001, "bonus": 0}]},
                 {"plans": [{"pay": 1000.5, "bonus": 0}]},
                 {"plans": [{"pay": "1000", "bonus": 0}]},
                 {"plans": [], "spend_order": "newest_first"}):
        r = await factory.client.put("/api/v1/top-up-plans", json=body, headers=shop.headers)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", body
    got = (await factory.client.get("/api/v1/top-up-plans", headers=shop.headers)).json()
    assert [(p["pay"], p["bonus"]) for p in got["plans"]] == [
        (p["pay"], p["bonus"]) for p in PLANS["plans"]]


async def test_a_top_up_gets_the_best_plan_it_reaches(factory: Factory,
                                                      services: Services) -> None:
    shop = await factory.merchant()
    await _plans(factory, shop)
    member = await factory.member(shop)
    url = f"/api/v1/members/{member.id}/top-ups"
    expected = [(10000, 0), (20000, 1000), (49999, 1000), (50000, 5000), (250000, 15000)]
    balance = 0
    for i, (pay, bonus) in enumerate(expected):
        r = await factory.client.post(url, json={"pay": pay}, headers={
            **shop.headers, "Idempotency-Key": f"t{i}"})
        assert r.status_code == 201, r.text
        balance += pay + bonus
        assert r.json() == {"id": r.json()["id"], "principal": pay, "bonus": bonus,
                            "balance": balance}
    mine = (await factory.client.get("/api/v1/me/balance", headers=member.headers)).json()
    theirs = (await factory.client.get(f"/api/v1/members/{member.id}/balance",
                                       headers=shop.headers)).json()
    assert mine == theirs
    assert (mine["balance"], mine["principal"], mine["bonus"]) == (
        balance, sum(p for p, _ in expected), sum(b for _, b in expected))
    assert [i["delta"] for i in mine["items"]] == [p + b for p, b in reversed(expected)]
    assert {i["kind"] for i in mine["items"]} == {"top_up"}
    # The ledger itself sums to what both pages show.
    assert await _ledger(services, member.id) == (5, mine["principal"], mine["bonus"])


async def test_twenty_retries_of_one_top_up_credit_once(factory: Factory,
                                                        services: Services) -> None:
    shop = await factory.merchant()
    await _plans(factory, shop)
    member = await factory.member(shop)
    url = f"/api/v1/members/{member.id}/top-ups"
    headers = {**shop.headers, "Idempotency-Key": "till-7-0042"}
    rs = await asyncio.gather(*(factory.client.post(url, json={"pay": 50000}, headers=headers)
                                for _ in range(20)))
    assert {r.status_code for r in rs} == {201}
    assert len({r.json()["id"] for r in rs}) == 1
    assert await _ledger(services, member.id) == (1, 50000, 5000)
    # The key with another amount is a mistake, not a second top-up.
    r = await factory.client.post(url, json={"pay": 20000}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency_key_reused"
    assert await _ledger(services, member.id) == (1, 50000, 5000)


async def test_bad_top_ups_are_refused_and_credit_nothing(factory: Factory,
                                                          services: Services) -> None:
    shop = await factory.merchant()
    rival = await factory.merchant("别家")
    member = await factory.member(shop)
    url = f"/api/v1/members/{member.id}/top-ups"
    for body in ({"pay": 0}, {"pay": -100}, {"pay": 10_000_001}, {"pay": 12.5}, {},
                 {"pay": 100, "tip": 1}):
        r = await factory.client.post(url, json=body, headers=shop.headers)
        assert r.status_code == 422, body
    r = await factory.client.post(url, json={"pay": 100, "store_id": "sto_nope"},
                                  headers=shop.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_store"
    r = await factory.client.post(url, json={"pay": 100}, headers=rival.headers)
    assert r.status_code == 404
    r = await factory.client.get(f"/api/v1/members/{member.id}/balance", headers=rival.headers)
    assert r.status_code == 404
    r = await factory.client.post(url, json={"pay": 100}, headers=member.headers)
    assert r.status_code in (401, 403)
    assert await _ledger(services, member.id) == (0, 0, 0)
    empty = (await factory.client.get("/api/v1/me/balance", headers=member.headers)).json()
    assert empty == {"balance": 0, "principal": 0, "bonus": 0, "items": [], "next_cursor": None,
                     "pin_set": False, "pin_locked_until": None}
