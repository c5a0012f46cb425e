"""Stored value at the till: orders paid from the balance with the member's PIN, refunds that
return the balance part, 退卡 and the balance.changed webhook. Concurrency claims are made by
many requests at once against the real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from engagement.kit.clock import FrozenClock
from engagement.kit.db import transaction
from engagement.kit.state import Services
from engagement.loyalty.wallet import pins
from engagement.loyalty.webhooks import queries as webhook_queries
from tests.factories import Factory, MemberHandle, MerchantHandle

PIN = "246810"


async def _funded(factory: Factory, pay: int, bonus: int, spend_order: str = "principal_first",
                  pin: str | None = PIN) -> tuple[MerchantHandle, MemberHandle]:
    shop = await factory.merchant()
    r = await factory.client.put("/api/v1/top-up-plans", headers=shop.headers, json={
        "plans": [{"pay": pay, "bonus": bonus}], "spend_order": spend_order})
    assert r.status_code == 200, r.text
    member = await factory.member(shop)
    r = await factory.client.post(f"/api/v1/members/{member.id}/top-ups",
                                  json={"pay": pay, "payment_method": "wechat"},
                                  headers={**shop.headers, "Idempotency-Key": "fund"})
    assert r.status_code == 201, r.text
    if pin is not None:
        r = await factory.client.put("/api/v1/me/balance-pin", json={"pin": pin},
                                     headers=member.headers)
        assert r.status_code == 200, r.text
    return shop, member


def _order(member: MemberHandle, order_id: str, amount: int, pay: int | None = None,
           pin: str | None = PIN) -> dict[str, Any]:
    body: dict[str, Any] = {"id": order_id, "member_id": member.id, "amount": amount,
                            "pay_with_balance": amount if pay is None else pay}
    if pin is not None:
        body["balance_pin"] = pin
    return body


async def _balance(factory: Factory, shop: MerchantHandle, member: MemberHandle) -> Any:
    r = await factory.client.get(f"/api/v1/members/{member.id}/balance?limit=200",
                                 headers=shop.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _ledger_sums(services: Services, member_id: str) -> tuple[int, int]:
    row = await services.pool.fetchrow(
        """SELECT coalesce(sum(principal), 0) AS p, coalesce(sum(bonus), 0) AS b
           FROM balance_ledger WHERE member_id = $1""", member_id)
    return int(row["p"]), int(row["b"])


async def test_twenty_balance_orders_at_once_take_only_what_the_balance_holds(
        factory: Factory, services: Services) -> None:
    shop, member = await _funded(factory, 9000, 1000)  # ¥90 + ¥10 = ¥100
    rs = await asyncio.gather(*(factory.client.post(
        "/api/v1/orders", json=_order(member, f"o-{i}", 3000), headers=shop.headers)
        for i in range(20)))
    statuses = sorted(r.status_code for r in rs)
    assert statuses == [201] * 3 + [409] * 17, [r.text for r in rs]
    assert {r.json()["error"]["code"] for r in rs if r.status_code == 409} == {
        "insufficient_balance"}
    assert {r.json()["paid_with_balance"] for r in rs if r.status_code == 201} == {3000}
    body = await _balance(factory, shop, member)
    assert (body["balance"], body["principal"], body["bonus"]) == (1000, 0, 1000)
    assert sum(i["delta"] for i in body["items"]) == body["balance"]
    assert await _ledger_sums(services, member.id) == (0, 1000)
    # Only the three orders that took the balance were recorded.
    assert await services.pool.fetchval(
        "SELECT count(*) FROM orders WHERE merchant_id = $1", shop.id) == 3


async def test_a_retried_order_replays_and_takes_the_balance_once(
        factory: Factory, services: Services) -> None:
    shop, member = await _funded(factory, 10000, 0)
    body = _order(member, "o-retry", 4000, pay=2500)
    rs = await asyncio.gather(*(factory.client.post("/api/v1/orders", json=body,
                                                    headers=shop.headers) for _ in range(10)))
    assert sorted(r.status_code for r in rs) == [200] * 9 + [201]
    assert len({r.text for r in rs}) == 1
    assert rs[0].json()["paid_with_balance"] == 2500 and rs[0].json()["amount"] == 4000
    assert (await _balance(factory, shop, member))["balance"] == 7500
    # Another balance part under the same id is another order: a conflict, nothing taken.
    r = await factory.client.post("/api/v1/orders", json={**body, "pay_with_balance": 3000},
                                  headers=shop.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "order_conflict"
    got = await factory.client.get("/api/v1/orders/o-retry", headers=shop.headers)
    assert got.json()["paid_with_balance"] == 2500
    assert (await _balance(factory, shop, member))["balance"] == 7500


async def test_the_spend_order_is_honoured_both_ways_through_orders(
        factory: Factory, services: Services) -> None:
    for spend_order, expected in (("principal_first", (1000, 1000)),
                                  ("bonus_first", (2000, 0))):
        shop, member = await _funded(factory, 3000, 1000, spend_order)  # ¥30 + ¥10
        r = await factory.client.post("/api/v1/orders", json=_order(member, "o-1", 2000),
                                      headers=shop.headers)
        assert r.status_code == 201, r.text
        body = await _balance(factory, shop, member)
        assert (body["principal"], body["bonus"]) == expected, spend_order
        spend = body["items"][0]
        assert spend["kind"] == "spend" and spend["order_id"] == "o-1"
        assert spend["delta"] == -2000


async def test_bad_balance_orders_are_refused_and_take_nothing(
        factory: Factory, services: Services) -> None:
    shop, member = await _funded(factory, 5000, 0)
    cases = [
        (_order(member, "b-1", 1000, pay=1001), 422, "balance_exceeds_amount"),
        (_order(member, "b-2", 1000, pay=0), 422, "validation_error"),
        (_order(member, "b-3", 1000, pin=None), 422, "validation_error"),
        (_order(member, "b-4", 1000, pin="12345"), 422, "validation_error"),
        ({"id": "b-5", "phone": "13800138000", "amount": 1000, "pay_with_balance": 1000,
          "balance_pin": PIN}, 422, "validation_error"),
        (_order(member, "b-6", 6000), 409, "insufficient_balance"),
    ]
    for body, status, code in cases:
        r = await factory.client.post("/api/v1/orders", json=body, headers=shop.headers)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), body
    bare = await factory.member(shop)  # no PIN set yet
    r = await factory.client.post("/api/v1/orders", json=_order(bare, "b-7", 100),
                                  headers=shop.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "pin_not_set")
    assert (await _balance(factory, shop, member))["balance"] == 5000
    assert await services.pool.fetchval(
        "SELECT count(*) FROM orders WHERE merchant_id = $1", shop.id) == 0


async def test_the_quote_checks_the_balance_part_and_takes_nothing(
        factory: Factory, services: Services) -> None:
    shop, member = await _funded(factory, 5000, 500)
    r = await factory.client.post("/api/v1/orders/quote", headers=shop.headers,
                                  json=_order(member, "q", 3000, pay=2000, pin=None))
    assert r.status_code == 200, r.text
    assert (r.json()["amount"], r.json()["paid_with_balance"]) == (3000, 2000)
    r = await factory.client.post("/api/v1/orders/quote", headers=shop.headers,
                                  json=_order(member, "q", 9000, pin=None))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "insufficient_balance")
    r = await factory.client.post("/api/v1/orders/quote", headers=shop.headers,
                                  json=_order(member, "q", 3000, pay=3001, pin="000000"))
    assert (r.status_code, r.json()["error"]["code"]) == (422, "balance_exceeds_amount")
    assert (await _balance(factory, shop, member))["balance"] == 5500
    # A quote tries no PIN: a wrong one there counts for nothing.
    assert await services.pool.fetchval(
        "SELECT failures FROM balance_pins WHERE member_id = $1", member.id) == 0


async def test_refunds_return_the_balance_part_in_proportion_and_never_more(
        factory: Factory, services: Services) -> None:
    shop, member = await _funded(factory, 6000, 3000)  # ¥60 + ¥30 bonus
    # ¥100 order, ¥90 of it from the balance: ¥60 principal and ¥30 bonus taken.
    r = await factory.client.post("/api/v1/orders", json=_order(member, "r-1", 10000, pay=9000),
                                  headers=shop.headers)
    assert r.status_code == 201, r.text
    assert (await _balance(factory, shop, member))["balance"] == 0
    one = await factory.client.post("/api/v1/orders/r-1/refunds", json={"amount": 5000},
                                    headers=shop.headers)
    assert one.status_code == 201 and one.json()["to_balance"] == 4500
    body = await _balance(factory, shop, member)
    assert (body["principal"], body["bonus"]) == (3000, 1500)
    assert body["items"][0]["kind"] == "refund" and body["items"][0]["order_id"] == "r-1"
    # Twenty refunds of ¥3 at once: the ¥50 left of the order is refunded (16 of them fit,
    # one ¥2 short), and the balance gets back exactly the rest of what it paid.
    rs = await asyncio.gather(*(factory.client.post(
        "/api/v1/orders/r-1/refunds", json={"amount": 300, "id": f"rf-{i}"},
        headers=shop.headers) for i in range(20)))
    ok = [r for r in rs if r.status_code == 201]
    assert len(ok) == 16 and {r.status_code for r in rs} == {201, 409}
    last = await factory.client.post("/api/v1/orders/r-1/refunds", json={"amount": 200},
                                     headers=shop.headers)
    assert last.status_code == 201, last.text
    returned = sum(r.json()["to_balance"] for r in [one, *ok, last])
    assert returned == 9000
    body = await _balance(factory, shop, member)
    assert (body["balance"], body["principal"], body["bonus"]) == (9000, 6000, 3000)
    assert await _ledger_sums(services, member.id) == (6000, 3000)


async def test_card_refund_pays_back_exactly_the_unspent_principal(
        factory: Factory, services: Services) -> None:
    shop, member = await _funded(factory, 10000, 2000)  # ¥100 + ¥20
    r = await factory.client.post("/api/v1/orders", json=_order(member, "c-1", 3000),
                                  headers=shop.headers)
    assert r.status_code == 201
    r = await factory.client.post(f"/api/v1/members/{member.id}/balance/refund",
                                  headers=shop.headers)
    assert r.status_code == 201, r.text
    assert r.json() == {"refunded": 7000, "forfeited": 2000}
    body = await _balance(factory, shop, member)
    assert (body["balance"], body["principal"], body["bonus"]) == (0, 0, 0)
    kinds = [(i["kind"], i["principal"], i["bonus"]) for i in body["items"][:2]]
    assert sorted(kinds) == [("card_refund", -7000, 0), ("forfeit", 0, -2000)]
    again = await factory.client.post(f"/api/v1/members/{member.id}/balance/refund",
                                      headers=shop.headers)
    assert again.json() == {"refunded": 0, "forfeited": 0}
    rival = await factory.merchant("别家")
    r = await factory.client.post(f"/api/v1/members/{member.id}/balance/refund",
                                  headers=rival.headers)
    assert r.status_code == 404
    r = await factory.client.post(f"/api/v1/members/{member.id}/balance/refund",
                                  headers=member.headers)
    assert r.status_code in (401, 403)


async def test_every_ledger_change_publishes_balance_changed(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    async with transaction(services.pool) as conn:  # a receiver, without resolving its host
        await webhook_queries.insert_endpoint(
            conn, id="whk_wallet", merchant_id=shop.id, url="https://hooks.example.com/in",
            events=["balance.changed"], secret="whsec_dGVzdA==", now=services.clock.now())
    member = await factory.member(shop)
    await factory.client.put("/api/v1/me/balance-pin", json={"pin": PIN},
                             headers=member.headers)
    r = await factory.client.post(f"/api/v1/members/{member.id}/top-ups", json={"pay": 5000},
                                  headers={**shop.headers, "Idempotency-Key": "k"})
    assert r.status_code == 201
    r = await factory.client.post("/api/v1/orders", json=_order(member, "w-1", 2000),
                                  headers=shop.headers)
    assert r.status_code == 201
    await factory.client.post("/api/v1/orders/w-1/refunds", json={"amount": 2000},
                              headers=shop.headers)
    await factory.client.post(f"/api/v1/members/{member.id}/balance/refund",
                              headers=shop.headers)
    rows = await services.pool.fetch(
        """SELECT payload FROM webhook_deliveries WHERE merchant_id = $1
           AND type = 'balance.changed' ORDER BY id""", shop.id)
    data = [json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]
            for r in rows]
    assert [(d["data"]["kind"], d["data"]["delta"], d["data"]["balance"]) for d in data] == [
        ("top_up", 5000, 5000), ("spend", -2000, 3000), ("refund", 2000, 5000),
        ("card_refund", -5000, 0)]


async def test_five_wrong_pins_lock_for_fifteen_minutes(
        factory: Factory, services: Services, clock: FrozenClock) -> None:
    shop, member = await _funded(factory, 5000, 0)
    for i in range(5):
        r = await factory.client.post("/api/v1/orders", headers=shop.headers,
                                      json=_order(member, f"p-{i}", 100, pin="111111"))
        assert (r.status_code, r.json()["error"]["code"]) == (403, "bad_pin"), i
    r = await factory.client.post("/api/v1/orders", headers=shop.headers,
                                  json=_order(member, "p-right", 100))
    assert (r.status_code, r.json()["error"]["code"]) == (423, "pin_locked")
    me = (await factory.client.get("/api/v1/me/balance", headers=member.headers)).json()
    assert me["pin_locked_until"] is not None and me["balance"] == 5000
    clock.advance(minutes=14, seconds=59)
    r = await factory.client.post("/api/v1/orders", headers=shop.headers,
                                  json=_order(member, "p-right", 100))
    assert r.status_code == 423
    clock.advance(seconds=2)
    r = await factory.client.post("/api/v1/orders", headers=shop.headers,
                                  json=_order(member, "p-right", 100))
    assert r.status_code == 201, r.text
    assert (await _balance(factory, shop, member))["balance"] == 4900


@pytest.mark.parametrize("queued", [True, False], ids=["one-process", "row-lock-only"])
async def test_five_wrong_pins_at_once_lock_too(
        factory: Factory, services: Services, clock: FrozenClock,
        monkeypatch: pytest.MonkeyPatch, queued: bool) -> None:
    if not queued:  # as if each check came from another process: only the row lock orders them
        monkeypatch.setattr(pins, "_queue", lambda member_id: asyncio.Lock())
    shop, member = await _funded(factory, 5000, 0)
    rs = await asyncio.gather(*(factory.client.post(
        "/api/v1/orders", headers=shop.headers,
        json=_order(member, f"g-{i}", 100, pin=f"{i:06d}")) for i in range(8)))
    codes = sorted(r.json()["error"]["code"] for r in rs)
    assert codes == ["bad_pin"] * 5 + ["pin_locked"] * 3
    r = await factory.client.post("/api/v1/orders", headers=shop.headers,
                                  json=_order(member, "g-right", 100))
    assert r.status_code == 423
    clock.advance(minutes=15, seconds=1)
    r = await factory.client.post("/api/v1/orders", headers=shop.headers,
                                  json=_order(member, "g-right", 100))
    assert r.status_code == 201, r.text


async def test_the_pin_is_stored_hashed_and_changing_it_needs_the_old_one(
        factory: Factory, services: Services) -> None:
    shop, member = await _funded(factory, 5000, 0)
    stored = await services.pool.fetchval(
        "SELECT pin_hash FROM balance_pins WHERE member_id = $1", member.id)
    assert stored.startswith("$argon2id$") and PIN not in stored
    url = "/api/v1/me/balance-pin"
    for body, status, code in (({"pin": "135790"}, 422, "validation_error"),
                               ({"pin": "135790", "old_pin": "000000"}, 403, "bad_pin"),
                               ({"pin": "1357"}, 422, "validation_error"),
                               ({"pin": "13579a", "old_pin": PIN}, 422, "validation_error")):
        r = await factory.client.put(url, json=body, headers=member.headers)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), body
    r = await factory.client.put(url, json={"pin": "135790", "old_pin": PIN},
                                 headers=member.headers)
    assert r.status_code == 200 and r.json() == {"pin_set": True}
    r = await factory.client.post("/api/v1/orders", headers=shop.headers,
                                  json=_order(member, "n-1", 100))
    assert r.status_code == 403
    r = await factory.client.post("/api/v1/orders", headers=shop.headers,
                                  json=_order(member, "n-2", 100, pin="135790"))
    assert r.status_code == 201
    r = await factory.client.put(url, json={"pin": "135790"}, headers=shop.headers)
    assert r.status_code in (401, 403)


async def test_a_paid_member_pays_the_discounted_amount_from_the_balance(
        factory: Factory, services: Services) -> None:
    shop, member = await _funded(factory, 20000, 0)
    r = await factory.client.put("/api/v1/membership-plans", headers=shop.headers, json={
        "plans": [{"name": "PLUS", "price": 5000, "days": 30, "discount_percent": 10}]})
    assert r.status_code == 200, r.text
    r = await factory.client.post(f"/api/v1/members/{member.id}/memberships",
                                  json={"plan_id": r.json()["plans"][0]["id"],
                                        "paid_with": "balance"},
                                  headers={**shop.headers, "Idempotency-Key": "plus"})
    assert r.status_code == 201, r.text
    body = {"id": "m-1", "member_id": member.id, "subtotal": 10000, "balance_pin": PIN}
    r = await factory.client.post("/api/v1/orders", headers=shop.headers,
                                  json={**body, "pay_with_balance": 9001})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "balance_exceeds_amount")
    r = await factory.client.post("/api/v1/orders", headers=shop.headers,
                                  json={**body, "pay_with_balance": 9000})
    assert r.status_code == 201, r.text
    assert (r.json()["member_discount"], r.json()["amount"], r.json()["paid_with_balance"]) == (
        1000, 9000, 9000)
    got = await _balance(factory, shop, member)
    assert got["balance"] == 20000 - 5000 - 9000
    assert [i["kind"] for i in got["items"][:2]] == ["spend", "membership"]
