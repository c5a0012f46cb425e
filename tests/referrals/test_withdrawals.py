"""Commission out (提现) over the API against the real servers: concurrent requests never
overdraw, a rejection gives the amount back, payment is recorded once, replays replay, bad
input changes nothing."""

from __future__ import annotations

import asyncio

import httpx

from engagement.kit.state import Services
from tests.factories import Factory
from tests.referrals.helpers import program, refund
from tests.referrals.withdrawal_helpers import balance, earner, ledger_sums, withdraw


async def test_ten_simultaneous_requests_for_six_yuan_against_ten_give_one(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    _shop, member = await earner(factory, services, available=1000)
    assert (await balance(client, member))["available"] == 1000
    results = await asyncio.gather(*[withdraw(client, member, 600, key=f"k-{n}")
                                     for n in range(10)])
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [409] * 9, statuses
    refused = [r.json()["error"] for r in results if r.status_code == 409]
    assert {e["code"] for e in refused} == {"insufficient_commission"}
    assert await services.pool.fetchval(
        "SELECT count(*) FROM commission_withdrawals WHERE member_id = $1", member.id) == 1
    shown = await balance(client, member)
    assert shown["available"] == 400 and shown["requested"] == 600 and shown["paid"] == 0
    assert {k: shown[k] for k in ("available", "requested", "paid")} \
        == await ledger_sums(services, member.id)


async def test_many_small_requests_at_once_stop_at_zero(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    _shop, member = await earner(factory, services, available=1000)
    results = await asyncio.gather(*[withdraw(client, member, 300) for _ in range(12)])
    assert sorted(r.status_code for r in results) == [201] * 3 + [409] * 9
    shown = await balance(client, member)
    assert shown["available"] == 100 and shown["requested"] == 900
    assert shown["available"] >= 0


async def test_reject_gives_the_amount_back_and_pay_is_recorded_once(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop, member = await earner(factory, services, available=1000)
    first = await withdraw(client, member, 600)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["amount"] == 600 and body["status"] == "requested" and body["id"]
    assert (await withdraw(client, member, 600)).status_code == 409

    listed = (await client.get("/api/v1/withdrawals?status=requested",
                               headers=shop.headers)).json()
    assert [w["id"] for w in listed["items"]] == [body["id"]]
    assert listed["items"][0]["member_id"] == member.id

    rejected = await client.post(f"/api/v1/withdrawals/{body['id']}/reject",
                                 json={"reason": "请先到店核对身份"}, headers=shop.headers)
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["reason"] == "请先到店核对身份"
    shown = await balance(client, member)
    assert shown["available"] == 1000 and shown["requested"] == 0
    again = await client.post(f"/api/v1/withdrawals/{body['id']}/reject", json={},
                              headers=shop.headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "withdrawal_already_rejected"
    late_pay = await client.post(f"/api/v1/withdrawals/{body['id']}/pay",
                                 json={"method": "cash"}, headers=shop.headers)
    assert late_pay.json()["error"]["code"] == "withdrawal_already_rejected"

    second = (await withdraw(client, member, 1000)).json()
    pays = await asyncio.gather(*[client.post(
        f"/api/v1/withdrawals/{second['id']}/pay",
        json={"method": "wechat", "reference": f"WX{n}"}, headers=shop.headers)
        for n in range(5)])
    assert sorted(r.status_code for r in pays) == [200] + [409] * 4
    assert {r.json()["error"]["code"] for r in pays if r.status_code == 409} \
        == {"withdrawal_already_paid"}
    paid = next(r.json() for r in pays if r.status_code == 200)
    assert paid["status"] == "paid" and paid["method"] == "wechat"
    assert paid["reference"].startswith("WX") and paid["decided_at"]
    reject_paid = await client.post(f"/api/v1/withdrawals/{second['id']}/reject", json={},
                                    headers=shop.headers)
    assert reject_paid.json()["error"]["code"] == "withdrawal_already_paid"
    shown = await balance(client, member)
    assert (shown["available"], shown["requested"], shown["paid"]) == (0, 0, 1000)
    assert {k: shown[k] for k in ("available", "requested", "paid")} \
        == await ledger_sums(services, member.id)
    by_status = (await client.get("/api/v1/withdrawals?status=paid",
                                  headers=shop.headers)).json()["items"]
    assert [w["id"] for w in by_status] == [second["id"]]
    everything = (await client.get("/api/v1/withdrawals", headers=shop.headers)).json()
    assert len(everything["items"]) == 2
    # The merchant's ledger view agrees.
    ledger = (await client.get(f"/api/v1/members/{member.id}/commissions",
                               headers=shop.headers)).json()
    assert ledger["balance"]["paid"] == 1000 and ledger["balance"]["available"] == 0


async def test_idempotent_replay_and_reuse(client: httpx.AsyncClient, factory: Factory,
                                           services: Services) -> None:
    _shop, member = await earner(factory, services, available=1000)
    first = await withdraw(client, member, 400, key="same")
    replays = await asyncio.gather(*[withdraw(client, member, 400, key="same")
                                     for _ in range(5)])
    assert first.status_code == 201
    assert all(r.status_code == 201 and r.json() == first.json() for r in replays)
    assert (await balance(client, member))["available"] == 600
    reused = await withdraw(client, member, 500, key="same")
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert await services.pool.fetchval(
        "SELECT count(*) FROM commission_withdrawals WHERE member_id = $1", member.id) == 1


async def test_bad_input_is_refused_and_changes_nothing(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop, member = await earner(factory, services, available=1000, min_withdrawal=500)
    assert (await client.get("/api/v1/referral-program",
                             headers=shop.headers)).json()["min_withdrawal"] == 500
    below = await withdraw(client, member, 499)
    assert below.status_code == 422
    assert below.json()["error"]["code"] == "below_min_withdrawal"
    assert below.json()["error"]["details"]["min_withdrawal"] == 500
    for amount in (0, -5, "600", 6.5, True, None, 10**13):
        r = await withdraw(client, member, amount)
        assert r.status_code == 422, (amount, r.text)
        assert r.json()["error"]["code"] == "validation_error"
    extra = await client.post("/api/v1/me/withdrawals", json={"amount": 600, "to": "x"},
                              headers=member.headers)
    assert extra.status_code == 422
    too_much = await withdraw(client, member, 1001)
    assert too_much.status_code == 409
    assert too_much.json()["error"]["details"]["available"] == 1000
    # Credentials: a merchant key cannot ask for a member; a member cannot pay.
    assert (await client.post("/api/v1/me/withdrawals", json={"amount": 600},
                              headers=shop.headers)).status_code in (401, 403)
    assert (await client.post("/api/v1/me/withdrawals", json={"amount": 600})).status_code == 401
    assert (await client.get("/api/v1/withdrawals", headers=member.headers)).status_code == 403
    assert (await client.get("/api/v1/withdrawals?status=lost",
                             headers=shop.headers)).status_code == 422
    ok = (await withdraw(client, member, 600)).json()
    for body in ({}, {"method": "paypal"}, {"method": "cash", "reference": "x" * 101},
                 {"method": "cash", "reference": "a\x00b"}):
        r = await client.post(f"/api/v1/withdrawals/{ok['id']}/pay", json=body,
                              headers=shop.headers)
        assert r.status_code == 422, (body, r.text)
    assert (await client.post("/api/v1/withdrawals/wdr_NOSUCH/pay", json={"method": "cash"},
                              headers=shop.headers)).status_code == 404
    # Another merchant's key never reaches this withdrawal.
    other = await factory.merchant("别家")
    for action, body in (("pay", {"method": "cash"}), ("reject", {})):
        r = await client.post(f"/api/v1/withdrawals/{ok['id']}/{action}", json=body,
                              headers=other.headers)
        assert r.status_code == 404
    assert (await client.get("/api/v1/withdrawals", headers=other.headers)).json()["items"] == []
    shown = await balance(client, member)
    assert (shown["available"], shown["requested"]) == (400, 600)
    # min_withdrawal itself is checked, and defaults to 100 cents.
    r = await client.put("/api/v1/referral-program", headers=shop.headers, json={
        "enabled": True, "trigger": "every_order", "hold_days": 0, "min_withdrawal": 0})
    assert r.status_code == 422
    assert (await program(factory, shop))["min_withdrawal"] == 100


async def test_withdrawal_endpoints_are_in_the_openapi_document(
        client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "post" in paths["/api/v1/me/withdrawals"]
    assert "get" in paths["/api/v1/withdrawals"]
    assert "post" in paths["/api/v1/withdrawals/{withdrawal_id}/pay"]
    assert "post" in paths["/api/v1/withdrawals/{withdrawal_id}/reject"]


async def test_a_refund_after_the_withdrawal_leaves_a_debt_that_blocks_the_next(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop, member = await earner(factory, services, available=1000)
    paid = (await withdraw(client, member, 1000)).json()
    assert (await client.post(f"/api/v1/withdrawals/{paid['id']}/pay", json={"method": "cash"},
                              headers=shop.headers)).status_code == 200
    # The friend's order is half refunded: its released commission is clawed back in part.
    r = await refund(client, shop, f"o-{member.id}", 5000)
    assert r.status_code == 201, r.text
    shown = await balance(client, member)
    assert (shown["available"], shown["paid"]) == (-500, 1000)
    assert {k: shown[k] for k in ("available", "requested", "paid")} \
        == await ledger_sums(services, member.id)
    refused = await withdraw(client, member, 100)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["available"] == 0
    page_client = client
    page_client.cookies.clear()
    await page_client.get(f"/m/enter?token={member.token}")
    page = (await page_client.get("/m/referrals", headers={"Accept": "text/html"})).text
    assert "data-available>-¥5<" in page and "data-withdraw-empty" in page
