"""Stored value in headless Chromium: on a tablet (820x1180) a cashier tops a member up
(充500送50, paid by WeChat) and takes an order from the balance with the PIN the member
types on the cashier's device, after a wrong one; on a phone (390x844) the member sees the
balance page with the ledger; on a laptop an owner sets the top-up plans and refunds a card
(退卡); a membership bought at the till from the balance shows in the till's balance.
Screenshots: tests/screenshots/till-wallet-*.png, member-balance*.png,
member-home-balance.png and console-top-up-plans.png / console-member-wallet.png."""

from __future__ import annotations

from typing import Any

from engagement.kit.state import Services
from tests.browser.conftest import open_phone
from tests.browser.test_console import EMAIL, LAPTOP, _accept_dialogs, _full_page
from tests.browser.test_console import _fits_width as _console_fits
from tests.browser.test_console import _sign_in as _console_sign_in
from tests.browser.test_till import (
    TABLET,
    _fits_width,
    _shop,
    _shot,
    _sign_in,
    _small_targets,
    _take_refusals,
    look_up,
)
from tests.console.helpers import add_user
from tests.factories import Factory

PIN = "802613"


async def test_a_cashier_tops_up_and_takes_a_balance_payment_with_the_pin(
        chromium: object, live_server: str, factory: Factory, services: Services) -> None:
    shop = await _shop(factory, services)
    r = await factory.client.put("/api/v1/top-up-plans", headers=shop.headers, json={
        "plans": [{"pay": 50000, "bonus": 5000}], "spend_order": "principal_first"})
    assert r.status_code == 200, r.text
    member = await factory.member(shop, phone="13800138000", name="王小明")
    r = await factory.client.put("/api/v1/me/balance-pin", json={"pin": PIN},
                                 headers=member.headers)
    assert r.status_code == 200, r.text
    tablet = await open_phone(chromium, live_server, **TABLET)
    try:
        page: Any = tablet.page
        await _sign_in(tablet)
        await look_up(page, "13800138000")
        await page.wait_for_selector("[data-wallet][data-balance='0']")
        assert (await page.inner_text("[data-wallet-balance]")) == "¥0.00"
        assert await page.is_hidden("[data-balance-pay]")  # nothing to pay with yet

        # The top-up: ¥500 by WeChat, the plan's ¥50 on top.
        await page.click("[data-action=top-up-open]")
        await page.wait_for_selector("[data-top-up-plans]:has-text('充¥500.00送¥50.00')")
        await page.fill("input[name=top_up_pay]", "500")
        await page.check("input[name=top_up_method][value=wechat]")
        assert "确认充值 ¥500.00" in await page.inner_text("[data-action=top-up-confirm]")
        assert await _fits_width(page)
        await _shot(page, "till-wallet-top-up")
        await page.click("[data-action=top-up-confirm]")
        await page.wait_for_selector("[data-wallet][data-balance='55000']")
        assert "已充值 ¥500.00，赠送 ¥50.00，余额 ¥550.00" in await page.inner_text(
            "[data-wallet-message]")
        assert await page.is_hidden("[data-top-up]")

        # The order: ¥128.50, all of it from the balance.
        await page.fill("input[name=subtotal]", "128.50")
        await page.wait_for_selector("[data-payable='12850']")
        await page.check("input[data-balance-use]")
        await page.wait_for_selector("[data-balance-quote]:not([hidden])")
        assert "-¥128.50" in await page.inner_text("[data-balance-quote-amount]")
        # No PIN yet: the till asks for it and sends nothing.
        await page.click("[data-action=confirm]")
        await page.wait_for_selector("[data-quote-message]:has-text('支付密码')")
        # A wrong PIN: refused in words, the PIN cleared for another try.
        await page.fill("input[name=balance_pin]", "111111")
        await page.click("[data-action=confirm]")
        await page.wait_for_selector("[data-quote-message]:has-text('支付密码不对')")
        assert (await page.input_value("input[name=balance_pin]")) == ""
        await page.wait_for_selector("[data-payable='12850']")
        await page.fill("input[name=balance_pin]", PIN)
        assert await _fits_width(page)
        assert await _small_targets(page) == []
        await _shot(page, "till-wallet-pin")
        await page.click("[data-action=confirm]")
        receipt = page.locator("[data-order-id]")
        await receipt.wait_for()
        assert (await page.inner_text("[data-receipt-wallet]")) == "¥128.50"
        await page.wait_for_function(
            "() => document.querySelector('[data-receipt]').dataset.pointsEarned === '128'")
        assert await _fits_width(page)
        await _shot(page, "till-wallet-receipt")
        assert _take_refusals(tablet) == [(403, "orders")]
        tablet.assert_clean()
        order_id = await receipt.get_attribute("data-order-id")
    finally:
        await tablet.context.close()  # type: ignore[attr-defined]

    # What the service recorded: the top-up's method, the spend against the order.
    body = (await factory.client.get(f"/api/v1/members/{member.id}/balance",
                                     headers=shop.headers)).json()
    assert body["balance"] == 55000 - 12850 and body["principal"] == 50000 - 12850
    spend, top_up = body["items"]
    assert (spend["kind"], spend["delta"], spend["order_id"]) == ("spend", -12850, order_id)
    assert (top_up["kind"], top_up["payment_method"]) == ("top_up", "wechat")
    order = (await factory.client.get(f"/api/v1/orders/{order_id}", headers=shop.headers)).json()
    assert order["paid_with_balance"] == 12850

    # The member's phone: the balance page, from the link on the member home.
    own = await open_phone(chromium, live_server)
    try:
        page = own.page
        await page.goto(f"/m/enter?token={member.token}")
        await page.wait_for_selector("[data-home-balance='42150']")
        await own.screenshot("member-home-balance")
        await page.click("[data-shortcut=balance]")
        await page.wait_for_selector("[data-balance='42150']")
        assert "¥421.50" in await page.inner_text("[data-balance]")
        kinds = await page.eval_on_selector_all("[data-entry]", "es => es.map(e => e.dataset.kind)")
        assert kinds == ["spend", "top_up"]
        ledger = await page.inner_text("[data-ledger]")
        assert "消费" in ledger and "充值" in ledger and "本金 ¥500.00 · 赠送 ¥50.00" in ledger
        assert await page.get_attribute("#pin", "data-pin-set") == "true"
        assert await _fits_width(page)
        await own.screenshot("member-balance")
        await page.screenshot(path="tests/screenshots/member-balance-full.png", full_page=True)
        own.assert_clean()
    finally:
        await own.context.close()  # type: ignore[attr-defined]


async def test_an_owner_sets_top_up_plans_and_refunds_a_card_in_the_console(
        chromium: object, live_server: str, factory: Factory, services: Services) -> None:
    shop = await factory.merchant("拾光咖啡")
    await add_user(services, shop, EMAIL)
    member = await factory.member(shop, phone="13800138000", name="王小明")
    r = await factory.client.put("/api/v1/me/balance-pin", json={"pin": PIN},
                                 headers=member.headers)
    assert r.status_code == 200
    laptop = await open_phone(chromium, live_server, **LAPTOP)
    try:
        page: Any = laptop.page
        _accept_dialogs(page)
        await _console_sign_in(laptop, "/console/top-up-plans")
        await page.wait_for_selector("[data-plans-empty]")
        # The sidebar holds every entry, this one too, without scrolling the bar.
        assert await page.evaluate("""() => { const nav = document.querySelector('.nav');
            return nav.scrollHeight <= nav.clientHeight; }""")
        await page.fill("input[name=plan-0-pay]", "500")
        await page.fill("input[name=plan-0-bonus]", "50")
        await page.check("input[name=spend_order][value=bonus_first]")
        await page.click("[data-action=save-top-up-plans]")
        await page.wait_for_url("**notice=top_up_plans_saved")
        assert await page.input_value("input[name=plan-0-pay]") == "500"
        assert await page.is_visible("input[name=plan-1-pay]")  # a blank row to add one
        assert await _console_fits(page)
        await _full_page(page, "console-top-up-plans")

        r = await factory.client.post(f"/api/v1/members/{member.id}/top-ups",
                                      json={"pay": 50000, "payment_method": "cash"},
                                      headers={**shop.headers, "Idempotency-Key": "k"})
        assert r.status_code == 201 and r.json()["bonus"] == 5000
        await page.goto(f"/console/members/{member.id}")
        await page.wait_for_selector("[data-wallet-balance]")
        assert (await page.inner_text("[data-wallet-balance]")) == "¥550"
        assert await page.is_visible("[data-action=reset-pin]")
        await _full_page(page, "console-member-wallet")
        await page.click("[data-action=card-refund]")  # the confirm is accepted
        await page.wait_for_url("**notice=card_refunded**")
        assert (await page.inner_text("[data-wallet-balance]")) == "¥0"
        kinds = await page.eval_on_selector_all(
            "[data-wallet-kind]", "es => es.map(e => e.dataset.walletKind)")
        assert sorted(kinds[:2]) == ["card_refund", "forfeit"]
        assert await page.is_hidden("[data-action=card-refund]")
        laptop.assert_clean()
    finally:
        await laptop.context.close()  # type: ignore[attr-defined]


async def test_a_membership_paid_from_the_balance_updates_the_till_s_balance(
        chromium: object, live_server: str, factory: Factory, services: Services) -> None:
    shop = await _shop(factory, services)
    r = await factory.client.put("/api/v1/membership-plans", headers=shop.headers, json={
        "plans": [{"name": "年卡", "price": 19900, "days": 365, "discount_percent": 10}]})
    assert r.status_code == 200, r.text
    plan_id = r.json()["plans"][0]["id"]
    member = await factory.member(shop, phone="13800138000", name="王小明")
    r = await factory.client.post(f"/api/v1/members/{member.id}/top-ups", json={"pay": 50000},
                                  headers={**shop.headers, "Idempotency-Key": "k"})
    assert r.status_code == 201
    tablet = await open_phone(chromium, live_server, **TABLET)
    try:
        page: Any = tablet.page
        await _sign_in(tablet)
        await look_up(page, "13800138000")
        await page.wait_for_selector("[data-wallet][data-balance='50000']")
        await page.check(f"[data-plan='{plan_id}'] input")
        await page.check("input[name=membership-paid-with][value=balance]")
        await page.click("[data-action=buy-membership]")
        await page.wait_for_selector("[data-membership-status][data-membership-state='active']")
        await page.wait_for_selector("[data-wallet][data-balance='30100']")
        assert (await page.inner_text("[data-wallet-balance]")) == "¥301.00"
        tablet.assert_clean()
    finally:
        await tablet.context.close()  # type: ignore[attr-defined]
