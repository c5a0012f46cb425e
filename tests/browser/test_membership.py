"""Paid membership in the browser: the member sees the card on the home at 390x844 (and,
in the last 7 days, the reminder to renew); a cashier buys one for the member found at the
till on an 820x1180 tablet and sees the member discount line in the quote, before the
coupons. Screenshots: tests/screenshots/membership-*.png."""

from __future__ import annotations

from typing import Any

from engagement.kit.state import Services
from tests.browser.conftest import SCREENSHOTS, Phone, open_phone
from tests.browser.test_till import TABLET, _shop, _sign_in, look_up
from tests.factories import Factory, MerchantHandle


async def _plans(factory: Factory, shop: MerchantHandle) -> list[str]:
    template = await factory.template(shop, name="会员专享满50减10", min_spend=5000)
    r = await factory.client.put("/api/v1/membership-plans", headers=shop.headers, json={
        "plans": [{"name": "黑金年卡", "price": 19900, "days": 365, "discount_percent": 10,
                   "monthly_coupon_template_id": template["id"]},
                  {"name": "体验周卡", "price": 990, "days": 5, "discount_percent": 5}]})
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()["plans"]]


async def _fits(page: Any) -> None:
    assert await page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


async def test_the_member_sees_the_card_and_the_reminder_on_a_phone(
        phone: Phone, factory: Factory) -> None:
    shop = await factory.merchant("拾光咖啡")
    year, week = await _plans(factory, shop)
    page: Any = phone.page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, plan, lang in (("long", year, "zh"), ("ending", week, "zh"),
                             ("ending-en", week, "en")):
        member = await factory.member(shop, name="小林")
        r = await factory.client.post(f"/api/v1/members/{member.id}/memberships",
                                      json={"plan_id": plan}, headers=shop.headers)
        assert r.status_code == 201, r.text
        await page.goto(f"/m/enter?token={member.token}")
        await page.goto(f"/m?lang={lang}")
        card = page.locator("[data-membership]")
        await card.wait_for()
        await page.screenshot(path=str(SCREENSHOTS / f"membership-home-{name}.png"),
                              full_page=True)
        await _fits(page)
        text = await card.inner_text()
        remind = page.locator("[data-membership-remind]")
        if plan == year:
            assert "黑金年卡" in text and "2027-11-23" in text
            assert "每单立减 10%" in text and "会员专享满50减10" in text
            assert await remind.count() == 0
        elif lang == "zh":
            assert "体验周卡" in text and "2026-11-28" in text
            assert "还有 5 天到期" in await remind.inner_text()
        else:
            assert "Ends in 5 days" in await remind.inner_text()
            assert "5% off every order" in text
    phone.assert_clean()


async def test_a_cashier_buys_a_membership_on_a_tablet(
        chromium: object, live_server: str, factory: Factory, services: Services) -> None:
    shop = await _shop(factory, services)
    year, _ = await _plans(factory, shop)
    member = await factory.member(shop, phone="13800138000", name="王小明")
    tablet = await open_phone(chromium, live_server, **TABLET)
    try:
        page: Any = tablet.page
        await _sign_in(tablet)
        await look_up(page, "13800138000")
        await page.wait_for_selector("[data-membership-status][data-membership-state='none']")
        await page.fill("input[name=subtotal]", "100")
        await page.wait_for_selector("[data-payable='10000']")
        assert await page.is_hidden("[data-member-discount-row]")
        await page.check(f"[data-plan='{year}'] input")
        button = page.locator("[data-action=buy-membership]")
        assert "¥199.00" in await button.inner_text()
        await page.screenshot(path=str(SCREENSHOTS / "membership-till-before.png"),
                              full_page=True)
        await button.click()
        await page.wait_for_selector("[data-membership-status][data-membership-state='active']")
        # The order on screen is priced again: 10% off before the coupons.
        await page.wait_for_selector("[data-payable='9000']")
        assert await page.is_visible("[data-member-discount-row]")
        assert (await page.inner_text("[data-show=member_discount]")) == "-¥10.00"
        assert "2027-11-23" in await page.inner_text("[data-membership-message]")
        await _fits(page)
        await page.screenshot(path=str(SCREENSHOTS / "membership-till-after.png"),
                              full_page=True)
        # Taken: the receipt shows the member discount beside the coupons' 优惠.
        await page.click("[data-action=confirm]")
        await page.wait_for_selector("[data-receipt]:not([hidden])")
        assert (await page.inner_text("[data-receipt=amount]")) == "¥90.00"
        assert await page.is_visible("[data-receipt-member-discount-row]")
        assert (await page.inner_text("[data-receipt=member_discount]")) == "-¥10.00"
        assert await page.is_hidden("[data-membership-box]")  # the customer's part is done
        await page.screenshot(path=str(SCREENSHOTS / "membership-till-receipt.png"),
                              full_page=True)
        rows = await services.pool.fetch(
            "SELECT paid_with, price FROM membership_purchases WHERE member_id = $1", member.id)
        assert [(r["paid_with"], r["price"]) for r in rows] == [("cash", 19900)]
        assert await services.pool.fetchval(
            "SELECT member_discount FROM orders WHERE member_id = $1", member.id) == 1000
        # In English, for a member whose card runs: renewing, every label fitting.
        await page.goto("/till?lang=en")
        await page.wait_for_selector("[data-till][data-ready]")
        await look_up(page, "13800138000")
        await page.wait_for_selector("[data-membership-status][data-membership-state='active']")
        assert "valid until 2027-11-23" in await page.inner_text("[data-membership-status]")
        assert "Renew for ¥199.00" in await button.inner_text()
        await _fits(page)
        await page.screenshot(path=str(SCREENSHOTS / "membership-till-en.png"), full_page=True)
        tablet.assert_clean()
    finally:
        await tablet.context.close()


async def test_a_manager_sets_plans_and_reads_the_figures_on_a_laptop(
        chromium: object, live_server: str, factory: Factory, services: Services) -> None:
    from tests.browser.test_console import LAPTOP
    from tests.browser.test_console import _sign_in as sign_in_console
    from tests.console.helpers import add_user

    shop = await factory.merchant("拾光咖啡")
    await add_user(services, shop, "owner@shiguang.example")
    member = await factory.member(shop, name="小林")
    r = await factory.client.post(f"/api/v1/members/{member.id}/top-ups", json={"pay": 50000},
                                  headers={**shop.headers, "Idempotency-Key": "t"})
    assert r.status_code == 201
    laptop = await open_phone(chromium, live_server, **LAPTOP)
    try:
        page: Any = laptop.page
        await sign_in_console(laptop, "/console/membership-plans")
        await page.wait_for_selector("[data-plans-empty]")
        await page.fill("#plan-0-name", "黑金年卡")
        await page.fill("#plan-0-price", "199")
        await page.fill("#plan-0-days", "365")
        await page.fill("#plan-0-discount", "10")
        await page.click("[data-action=save-membership-plans]")
        await page.wait_for_url("**/console/membership-plans?notice=membership_plans_saved")
        await page.screenshot(path=str(SCREENSHOTS / "membership-console-plans.png"),
                              full_page=True)
        [plan] = (await factory.client.get("/api/v1/membership-plans",
                                           headers=shop.headers)).json()["plans"]
        r = await factory.client.post(f"/api/v1/members/{member.id}/memberships",
                                      json={"plan_id": plan["id"], "paid_with": "balance"},
                                      headers=shop.headers)
        assert r.status_code == 201
        await page.click('[data-nav="member_cards"]')
        await page.wait_for_selector("[data-figures=paid-members]")
        assert (await page.inner_text("[data-figure=principal]")) == "¥301.00"
        assert (await page.inner_text("[data-figure=revenue]")) == "¥199.00"
        await _fits(page)
        # The whole sidebar, every entry and its foot, on a laptop's 800 px.
        assert await page.evaluate("""() => [...document.querySelectorAll('[data-nav]')]
            .every(a => a.getBoundingClientRect().bottom <= window.innerHeight)""")
        await page.screenshot(path=str(SCREENSHOTS / "membership-console-figures.png"))
        laptop.assert_clean()
    finally:
        await laptop.context.close()
