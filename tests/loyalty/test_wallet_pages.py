"""Stored value's pages: the console's top-up plans (owners and managers), the balance and
ledger on a member's page with 退卡 for owners only, and the member's /m/balance with the
payment PIN form."""

from __future__ import annotations

import httpx

from engagement.kit.state import Services
from tests.console.helpers import HTML, Console, add_user, csrf_token, signed_in
from tests.factories import Factory


async def test_the_plans_page_saves_what_the_api_reads(shop: Console, app: object,
                                                       services: Services) -> None:
    page = (await shop.get("/console/top-up-plans")).text
    assert "data-plans-empty" in page and 'href="/console/top-up-plans"' in page
    r = await shop.post("/console/top-up-plans", {
        "plan-0-pay": "500", "plan-0-bonus": "50", "plan-1-pay": "1000", "plan-1-bonus": "150",
        "spend_order": "bonus_first"})
    assert r.status_code == 303 and r.headers["location"].endswith("notice=top_up_plans_saved")
    got = (await shop.client.get("/api/v1/top-up-plans", headers=shop.merchant.headers)).json()
    assert [(p["pay"], p["bonus"]) for p in got["plans"]] == [(50000, 5000), (100000, 15000)]
    assert got["spend_order"] == "bonus_first"
    page = (await shop.get("/console/top-up-plans")).text
    assert 'value="500"' in page and 'value="150"' in page and page.count("data-plan-row=") == 3
    for form, message in [({"plan-0-pay": "五百"}, "请输入金额"),
                          ({"plan-0-pay": "100", "plan-0-bonus": "200"}, "赠送不能多于充值金额"),
                          ({"plan-0-pay": "100", "plan-1-pay": "100"}, "每个方案的充值金额要不同"),
                          ({"plan-0-bonus": "5"}, "请填写充值金额")]:
        r = await shop.post("/console/top-up-plans", {"spend_order": "principal_first", **form})
        assert r.status_code == 422 and message in r.text, form
    again = (await shop.client.get("/api/v1/top-up-plans", headers=shop.merchant.headers)).json()
    assert again == got
    await add_user(services, shop.merchant, "cashier@shiguang.example", role="cashier")
    async with signed_in(app, shop.merchant, "cashier@shiguang.example") as cashier:
        assert (await cashier.get("/console/top-up-plans")).status_code == 403


async def test_the_member_page_shows_the_ledger_and_only_owners_refund_the_card(
        shop: Console, app: object, factory: Factory, services: Services) -> None:
    member = await factory.member(shop.merchant)
    r = await shop.client.post(f"/api/v1/members/{member.id}/top-ups",
                               json={"pay": 30000, "payment_method": "alipay"},
                               headers={**shop.merchant.headers, "Idempotency-Key": "k1"})
    assert r.status_code == 201
    await add_user(services, shop.merchant, "manager@shiguang.example", role="manager")
    async with signed_in(app, shop.merchant, "manager@shiguang.example") as manager:
        page = (await manager.get(f"/console/members/{member.id}")).text
        assert "data-wallet-balance" in page and "¥300" in page and "支付宝" in page
        assert 'data-action="card-refund"' not in page
        r = await manager.post(f"/console/members/{member.id}/balance/refund")
        assert r.status_code == 403
    page = (await shop.get(f"/console/members/{member.id}")).text
    assert 'data-action="card-refund"' in page and "data-confirm=" in page
    r = await shop.post(f"/console/members/{member.id}/balance/refund")
    assert r.status_code == 303 and "notice=card_refunded" in r.headers["location"]
    page = (await shop.get(f"/console/members/{member.id}")).text
    assert 'data-wallet-kind="card_refund"' in page and "退卡退还" in page
    body = (await shop.client.get(f"/api/v1/members/{member.id}/balance",
                                  headers=shop.merchant.headers)).json()
    assert body["balance"] == 0


async def test_an_owner_clears_a_forgotten_pin_and_the_member_sets_a_new_one(
        shop: Console, app: object, factory: Factory, services: Services) -> None:
    member = await factory.member(shop.merchant)
    url = "/api/v1/me/balance-pin"
    assert (await shop.client.put(url, json={"pin": "111222"},
                                  headers=member.headers)).status_code == 200
    page = (await shop.get(f"/console/members/{member.id}")).text
    assert 'data-action="reset-pin"' in page
    await add_user(services, shop.merchant, "manager@shiguang.example", role="manager")
    async with signed_in(app, shop.merchant, "manager@shiguang.example") as manager:
        page = (await manager.get(f"/console/members/{member.id}")).text
        assert 'data-action="reset-pin"' not in page
        r = await manager.post(f"/console/members/{member.id}/balance-pin/reset")
        assert r.status_code == 403
    r = await shop.post(f"/console/members/{member.id}/balance-pin/reset")
    assert r.status_code == 303 and "notice=pin_reset" in r.headers["location"]
    me = (await shop.client.get("/api/v1/me/balance", headers=member.headers)).json()
    assert me["pin_set"] is False
    # A new PIN without the forgotten one.
    r = await shop.client.put(url, json={"pin": "333444"}, headers=member.headers)
    assert r.status_code == 200
    rival = await factory.merchant("别家")
    stranger = await factory.member(rival)
    r = await shop.post(f"/console/members/{stranger.id}/balance-pin/reset")
    assert r.status_code == 404


async def test_the_member_sets_and_changes_the_pin_on_the_balance_page(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    assert (await client.get("/m/balance", headers=HTML)).status_code == 401
    assert (await client.get(f"/m/enter?token={member.token}")).status_code == 303
    page = (await client.get("/m/balance", headers=HTML)).text
    assert "data-empty" in page and 'data-pin-set="false"' in page
    assert 'name="old_pin"' not in page
    token = csrf_token(page)
    home = (await client.get("/m", headers=HTML)).text
    assert 'href="/m/balance"' not in home  # no balance, no plans: no card on the home
    r = await client.post("/m/balance/pin", headers=HTML, data={
        "csrf_token": token, "pin": "123456", "pin_again": "123465"})
    assert r.status_code == 303 and "error=format" in r.headers["location"]
    r = await client.post("/m/balance/pin", headers=HTML, data={
        "csrf_token": "forged", "pin": "123456", "pin_again": "123456"})
    assert r.status_code == 403
    r = await client.post("/m/balance/pin", headers=HTML, data={
        "csrf_token": token, "pin": "123456", "pin_again": "123456"})
    assert r.status_code == 303 and "saved=1" in r.headers["location"]
    page = (await client.get("/m/balance?saved=1", headers=HTML)).text
    assert "支付密码已设置" in page and 'name="old_pin"' in page
    r = await client.post("/m/balance/pin", headers=HTML, data={
        "csrf_token": token, "pin": "654321", "pin_again": "654321", "old_pin": "000000"})
    assert "error=bad_pin" in r.headers["location"]
    r = await client.post("/m/balance/pin", headers=HTML, data={
        "csrf_token": token, "pin": "654321", "pin_again": "654321", "old_pin": "123456"})
    assert "saved=1" in r.headers["location"]
    r = await client.post(f"/api/v1/members/{member.id}/top-ups", json={"pay": 1000},
                          headers={**shop.headers, "Idempotency-Key": "k"})
    assert r.status_code == 201
    page = (await client.get("/m/balance", headers=HTML)).text
    assert 'data-balance="1000"' in page and 'data-kind="top_up"' in page and "充值" in page
    home = (await client.get("/m", headers=HTML)).text
    assert 'href="/m/balance"' in home and 'data-home-balance="1000"' in home
    english = (await client.get("/m/balance?lang=en", headers=HTML)).text
    assert "Top-up" in english and "Stored balance" in english


async def test_the_till_carries_the_wallet_partials_in_both_languages(
        shop: Console, app: object, services: Services) -> None:
    await add_user(services, shop.merchant, "cashier@shiguang.example", role="cashier")
    async with signed_in(app, shop.merchant, "cashier@shiguang.example") as cashier:
        page = (await cashier.get("/till")).text
        assert "data-wallet" in page and "data-balance-pay" in page
        assert "till-wallet-config" in page and "js/till-wallet.js" in page
        assert "请顾客输入 6 位支付密码" in page and "微信支付" in page
        english = (await cashier.get("/till?lang=en")).text
        assert "Ask the customer to type their 6-digit payment PIN" in english
        assert "Pay {amount} from the balance" in english and "WeChat Pay" in english
        assert "请顾客输入" not in english
        # The till reads the plans and the member's balance with its session.
        assert (await cashier.client.get("/api/v1/top-up-plans")).status_code == 200
