"""A merchant sets up the loyalty programme from the console only, in headless Chromium on a
laptop (1280x800) and a tablet (820x1180): a coupon, points earning (after one slip the page
points out), a tier, a points-mall reward, birthday coupons, a webhook (its secret shown
once), and a cashier. Each page fits the width and is saved as a screenshot:
tests/screenshots/loyalty-<device>-<page>.png. The API then reads back what was set."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engagement.kit.state import Services
from engagement.loyalty.webhooks import console as webhook_console
from tests.browser.conftest import SCREENSHOTS, Phone, open_phone
from tests.browser.test_console import EMAIL, LAPTOP, TABLET, _fits_width, _sign_in
from tests.console.helpers import add_user
from tests.factories import Factory
from tests.loyalty.helpers import adjust

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
HOOK_URL = "https://93.184.215.14/hooks/engagement"  # a public address: no DNS needed


async def _shot(page: Any, device: str, name: str) -> None:
    assert await _fits_width(page), name
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"loyalty-{device}-{name}.png"),
                          full_page=True)


async def _open(page: Any, nav: str, empty: str) -> None:
    await page.click(f'[data-nav="{nav}"]')
    await page.wait_for_selector(empty)


async def _saved(browser: Phone) -> None:
    page: Any = browser.page
    await page.wait_for_selector("[data-notice]")


@pytest.mark.parametrize("device", ["laptop", "tablet"])
async def test_a_merchant_sets_up_loyalty_in_the_console(
        chromium: object, live_server: str, factory: Factory, services: Services,
        device: str) -> None:
    shop = await factory.merchant("拾光咖啡")
    await add_user(services, shop, EMAIL)
    member = await factory.member(shop, name="小林", phone="13800001234")
    assert (await adjust(factory.client, member, 30)).status_code == 201
    browser = await open_phone(chromium, live_server, **(LAPTOP if device == "laptop"
                                                         else TABLET))
    try:
        page: Any = browser.page
        await _sign_in(browser, "/console/rewards")
        # With no coupon yet, the mall and the birthday page send the merchant to make one.
        await page.wait_for_selector("[data-rewards-empty]")
        await _shot(page, device, "rewards-no-coupon")
        await page.click('[data-rewards-empty] a.btn')
        await page.fill('input[name="name"]', "生日蛋糕立减20元")
        await page.fill('input[name="amount"]', "20")
        await page.fill('input[name="stock"]', "500")
        await page.click('[data-action="save-template"]')
        await _saved(browser)

        # Points: a slip first, then every ¥1 earns 1 point, 50 to join, a year to spend.
        await _open(page, "points", "[data-never-set]")
        await page.fill("#per_amount", "0")
        await page.click('[data-action="save-points"]')
        await page.wait_for_selector('[data-error-for="per_amount"]')
        assert "金额要大于 0" in await page.inner_text('[data-error-for="per_amount"]')
        browser.console_errors.clear()  # Chromium logs the form's 422: expected
        await page.fill("#per_amount", "1")
        await page.fill("#points", "1")
        await page.fill("#join_bonus", "50")
        await page.fill("#expiry_days", "365")
        await page.click('[data-action="save-points"]')
        await _saved(browser)
        await _shot(page, device, "points")

        # A tier: 银卡 at ¥500 paid within 365 days, with the coupon monthly.
        await _open(page, "tiers", "[data-tiers-empty]")
        await _shot(page, device, "tiers-empty")
        await page.click('[data-action="first-tier"]')
        await page.fill("#tier-0-name", "银卡会员")
        await page.select_option("#tier-0-basis", "spend")
        await page.fill("#tier-0-threshold", "500")
        await page.select_option("#tier-0-coupon", label="生日蛋糕立减20元")
        await page.click('[data-action="save-tiers"]')
        await _saved(browser)
        assert await page.locator("[data-tier-row]").count() == 2
        await _shot(page, device, "tiers")

        # A points-mall reward: the coupon for 200 points, 30 of them.
        await _open(page, "rewards", "[data-rewards-empty]")
        await _shot(page, device, "rewards-empty")
        await page.select_option("#coupon_template_id", label="生日蛋糕立减20元（可用 500 张）")
        await page.fill("#cost_points", "200")
        await page.fill("#stock", "30")
        await page.click('[data-action="add-reward"]')
        await _saved(browser)
        assert await page.locator('[data-rewards] tr[data-active="true"]').count() == 1
        await _shot(page, device, "rewards")

        # Birthday coupons, three days ahead.
        await _open(page, "birthday", "[data-never-set]")
        await page.check('input[name="enabled"]')
        await page.select_option("#coupon_template_id", label="生日蛋糕立减20元（可用 500 张）")
        await page.fill("#days_before", "3")
        await page.click('[data-action="save-birthday"]')
        await _saved(browser)
        assert (await page.inner_text("[data-issued]")).strip() == "0"
        await _shot(page, device, "birthday")

        # A webhook: the secret once, then the list without it.
        await _open(page, "webhooks", "[data-webhooks-empty]")
        await _shot(page, device, "webhooks-empty")
        await page.fill("#url", HOOK_URL)
        await page.click('[data-action="add-webhook"]')
        secret = await (await page.wait_for_selector("[data-new-secret]")).input_value()
        assert secret.startswith("whsec_")
        await _shot(page, device, "webhook-created")
        await page.click('[data-action="back-to-webhooks"]')
        await page.wait_for_selector("[data-webhooks]")
        assert secret not in await page.content()
        await _shot(page, device, "webhooks")
        await page.click('[data-action="deliveries"]')
        await page.wait_for_selector("[data-deliveries-empty]")
        await _shot(page, device, "webhook-deliveries")

        # A member's points by hand: too many first (said in words), then right.
        await page.click('[data-nav="members"]')
        await page.click(f'a[href="/console/members/{member.id}"]')
        await page.click('[data-action="adjust-points"]')
        await page.check('input[name="direction"][value="subtract"]')
        await page.fill("#amount", "100")
        await page.fill("#reason", "兑换店内礼品")
        await page.click('button[data-action="adjust-points"]')
        await page.wait_for_selector('[data-error-for="amount"]')
        assert "最多只能扣 30" in await page.inner_text('[data-error-for="amount"]')
        browser.console_errors.clear()  # the 409: expected
        await _shot(page, device, "member-points-refused")
        await page.fill("#amount", "10")
        await page.click('button[data-action="adjust-points"]')
        await _saved(browser)
        assert (await page.inner_text("[data-points]")).strip() == "20"
        await _shot(page, device, "member-points")

        # And a cashier for the till.
        await page.click('[data-nav="staff"]')
        await page.fill('input[name="email"]', "cashier@shiguang.example")
        await page.click('label.role-choice:has(input[value="cashier"])')
        await page.click('[data-action="add-staff"]')
        await page.wait_for_selector("[data-new-password]")

        # The same pages in English say everything in English (data aside).
        await page.goto("/console/points")
        await page.click('.lang a[hreflang="en"]')
        await page.wait_for_selector('html[lang="en"]')
        for nav, name in (("points", "points-en"), ("tiers", "tiers-en"),
                          ("birthday", "birthday-en"), ("webhooks", "webhooks-en")):
            await page.click(f'[data-nav="{nav}"]')
            await page.wait_for_selector(f'[data-nav="{nav}"][aria-current="page"]')
            text = await page.inner_text("main")
            for data in ("银卡会员", "生日蛋糕立减20元"):
                text = text.replace(data, "")
            assert not CJK.search(text), (nav, CJK.findall(text))
            await _shot(page, device, name)
        browser.assert_clean()
    finally:
        await browser.context.close()  # type: ignore[attr-defined]

    async def api(path: str) -> Any:
        r = await factory.client.get(path, headers=shop.headers)
        assert r.status_code == 200, r.text
        return r.json()

    program = await api("/api/v1/points-program")
    assert (program["earn"], program["join_bonus"], program["expiry_days"]) == (
        {"per_amount": 100, "points": 1}, 50, 365)
    [tier] = (await api("/api/v1/tiers"))["tiers"]
    assert (tier["name"], tier["min_spend"], tier["window_days"]) == ("银卡会员", 50000, 365)
    [reward] = (await api("/api/v1/rewards"))["items"]
    assert (reward["cost_points"], reward["stock"], reward["active"]) == (200, 30, True)
    birthday = await api("/api/v1/birthday-automation")
    assert (birthday["enabled"], birthday["days_before"]) == (True, 3)
    [hook] = (await api("/api/v1/webhooks"))["items"]
    # Every event the form offers is ticked when a hook is added.
    assert hook["url"] == HOOK_URL and set(hook["events"]) == set(webhook_console.EVENTS)
    assert await services.pool.fetchval(
        "SELECT role FROM merchant_users WHERE email = 'cashier@shiguang.example'") == "cashier"
