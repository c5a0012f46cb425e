"""The sends pages of the console on a laptop and a tablet: a merchant starts from the empty
state's 60-day win-back, watches the audience count follow a filter, sends, and sees the
result page fill in with the lift chart once the worker has run (driven here, as the other
send tests do). Screenshots: tests/screenshots/console-sends-*.png."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from tests.browser.conftest import SCREENSHOTS, open_phone
from tests.browser.test_console import EMAIL, LAPTOP, TABLET, _fits_width, _sign_in
from tests.console.helpers import add_user
from tests.factories import Factory
from tests.loyalty.helpers import pay
from tests.worker import drain


async def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def _audience(page: Any, expected: str) -> None:
    await page.wait_for_function(
        "n => document.querySelector('[data-audience]').dataset.audience === n", arg=expected,
        timeout=10_000)


@pytest.mark.parametrize("size", ["laptop", "tablet"])
async def test_a_merchant_wins_back_lapsed_members_and_reads_the_lift(
        chromium: object, live_server: str, factory: Factory, services: Services,
        clock: FrozenClock, size: str) -> None:
    shop = await factory.merchant("拾光咖啡")
    await add_user(services, shop, EMAIL)
    await factory.template(shop, name="回店立减10元", stock=500)
    lapsed = [await factory.member(shop) for _ in range(10)]
    regulars = [await factory.member(shop) for _ in range(3)]
    for _ in range(2):
        await factory.member(shop)  # joined, never bought
    now = clock.now()
    clock.at = now - timedelta(days=90)
    for n, member in enumerate(lapsed):
        await pay(factory.client, member, f"old-{n}", 3_800)
    clock.at = now - timedelta(days=5)
    for n, member in enumerate(regulars):
        await pay(factory.client, member, f"new-{n}", 3_800)
    clock.at = now

    browser = await open_phone(chromium, live_server, **(LAPTOP if size == "laptop" else TABLET))
    try:
        page: Any = browser.page
        await _sign_in(browser, "/console/sends")
        await page.wait_for_selector("[data-empty]")
        assert await _fits_width(page)
        await _shot(page, f"console-sends-empty-{size}")

        # The empty state's one action: the 60-day win-back, filled in.
        await page.click('[data-empty] [data-action="new-send"]')
        await page.wait_for_url("**/console/sends/new?preset=win_back")
        assert await page.input_value("#inactive_days") == "60"
        assert await page.input_value("#name") == "60天沉睡会员唤醒"
        await _audience(page, "10")
        # A filter changes, the count follows (debounced, fetched by htmx).
        await page.fill("#min_orders", "")
        await _audience(page, "12")  # the two who never bought are quiet too
        await page.fill("#inactive_days", "3")
        await _audience(page, "15")
        await page.fill("#inactive_days", "sixty")
        await _audience(page, "invalid")
        await page.fill("#inactive_days", "60")
        await page.fill("#min_orders", "1")
        await _audience(page, "10")
        await page.select_option("#coupon_template_id", label="回店立减10元 · 剩余 500 张")
        await page.fill("#holdout_percent", "20")
        assert await page.locator("[data-schedule]").is_hidden()  # "send now" by default
        assert await _fits_width(page)
        if size == "laptop":
            await _shot(page, f"console-sends-new-{size}")
        else:  # the count and the button stay in view at the foot of the tablet's screen
            await page.locator("#how-title").scroll_into_view_if_needed()
            assert await page.locator('[data-action="send"]').is_visible()
            await browser.screenshot(f"console-sends-new-{size}")
        await page.click('[data-action="send"]')

        await page.wait_for_selector('[data-send-status="queued"]')
        assert "已开始发送" in await page.inner_text("[data-notice]")
        await _shot(page, f"console-sends-queued-{size}")
        await drain(services.settings, clock)
        send_id = page.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        held = {row["member_id"] for row in await services.pool.fetch(
            "SELECT member_id FROM send_members WHERE send_id = $1 AND held_out", send_id)}
        treated = [m for m in lapsed if m.id not in held]
        clock.advance(days=1)
        for n, member in enumerate(treated[:4]):  # half the treated come back
            await pay(factory.client, member, f"back-{n}", 3_800)
        # The page polls on its own until the send is done, then shows the chart.
        await page.wait_for_selector('[data-send-status="done"]', timeout=15_000)
        assert (await page.inner_text('[data-count="targeted"]')).strip() == "10"
        assert (await page.inner_text('[data-count="held_out"]')).strip() == "2"
        assert (await page.inner_text('[data-count="issued"]')).strip() == "8"
        chart = page.locator("[data-lift-chart]")
        assert await chart.is_visible()
        assert await chart.locator('[data-bar="treated"]').get_attribute("data-rate") == "0.5"
        assert await chart.locator('[data-bar="holdout"]').get_attribute("data-rate") == "0.0"
        assert "+50.0%" in await page.inner_text("[data-lift]")
        assert await _fits_width(page)
        await _shot(page, f"console-sends-result-{size}")

        await page.click('[data-nav="sends"]')
        row = page.locator(f'[data-send-id="{send_id}"]')
        assert "已完成" in await row.inner_text() and "+50.0%" in await row.inner_text()
        await _shot(page, f"console-sends-list-{size}")
        await page.goto(f"/console/sends/{send_id}?lang=en")
        assert "Repurchase rate" in await page.inner_text("main")
        assert await _fits_width(page)
        await _shot(page, f"console-sends-result-en-{size}")
        await page.goto("/console/sends/new?preset=win_back&lang=en")
        await page.click('input[name="when"][value="later"]')
        assert await page.locator("[data-schedule]").is_visible()
        await _audience(page, "6")  # four of the ten came back
        assert await _fits_width(page)
        if size == "laptop":
            await _shot(page, f"console-sends-new-en-{size}")
        else:
            await page.locator("#scheduled_at").scroll_into_view_if_needed()
            await browser.screenshot(f"console-sends-new-en-{size}")
        browser.assert_clean()
    finally:
        await browser.context.close()  # type: ignore[attr-defined]
