"""Orders, refunds and the daily till summary in the console, in headless Chromium on a
tablet (820x1180) and a laptop (1280x800): find an order, refund part of it, refund the
rest, be refused a refund beyond what is left, then read the day's summary and download it.
Screenshots: tests/screenshots/console-orders-*.png and console-summary-*.png."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings
from engagement.kit.state import Services
from tests.browser.conftest import SCREENSHOTS, Phone, open_phone
from tests.browser.test_console import EMAIL, LAPTOP, TABLET, _sign_in
from tests.console import till_data
from tests.console.helpers import add_user
from tests.factories import Factory, MerchantHandle
from tests.worker import drain


async def _shot(page: Any, name: str, full: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full)


async def _fits(page: Any) -> None:
    assert await page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    # No table scrolls sideways inside its card either.
    assert await page.evaluate(
        "() => [...document.querySelectorAll('.table-wrap')]"
        ".every(w => w.scrollWidth <= w.clientWidth + 1)")


async def _a_day_of_orders(app: object, factory: Factory, shop: MerchantHandle) -> None:
    await till_data.points_program(factory, shop)
    north = await till_data.store(factory, shop, "拾光咖啡 · 北京路店")
    south = await till_data.store(factory, shop, "拾光咖啡 · 天河店")
    lin = await till_data.till(app, factory, shop, "lin.cashier@shiguang.example",
                               store_id=north)
    zhao = await till_data.till(app, factory, shop, "zhao@shiguang.example", store_id=south)
    ten = await factory.template(shop, name="满50减10元券", min_spend=5000)
    member = await factory.member(shop, name="林小满", phone="13800138000")
    other = await factory.member(shop, phone="13912345678")
    plan = [("T20261123-0001", member.id, 12850, lin, True),
            ("T20261123-0002", other.id, 3600, lin, False),
            ("T20261123-0003", member.id, 8800, zhao, True),
            ("POS-88123", other.id, 2590, None, False)]
    for order_id, member_id, subtotal, staff, coupon in plan:
        uses: tuple[str, ...] = ()
        if coupon:
            uses = (await till_data.coupon(factory, shop, ten["id"], member_id),)
        await till_data.order(factory, shop, order_id, member_id=member_id, subtotal=subtotal,
                              coupons=uses, at=staff)
        factory.services.clock.advance(minutes=9)  # type: ignore[attr-defined]
    await till_data.order(factory, shop, "G-20261123", phone="13700001234", subtotal=1800,
                          at=zhao)
    for t in (lin, zhao):
        await t.client.aclose()


async def test_a_manager_refunds_an_order_and_reads_the_day(
        chromium: object, live_server: str, app: object, factory: Factory,
        services: Services) -> None:
    shop = await factory.merchant("拾光咖啡")
    await add_user(services, shop, EMAIL)
    await _a_day_of_orders(app, factory, shop)
    tablet: Phone = await open_phone(chromium, live_server, **TABLET)
    try:
        page: Any = tablet.page
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await _sign_in(tablet, "/console/orders")
        await page.wait_for_selector("[data-orders]")
        rows = page.locator("[data-orders] tbody tr")
        assert await rows.count() == 5
        assert (await rows.first.get_attribute("data-order-id")) == "G-20261123"  # newest
        assert "访客" in await rows.first.inner_text()  # a guest, by a masked phone
        assert "137****1234" in await rows.first.inner_text()
        assert "API / POS" in await page.inner_text('[data-order-id="POS-88123"]')
        await _fits(page)
        await _shot(page, "console-orders-list")

        # The order: its coupon, and a part refund typed in yuan.
        await page.click('a[href="/console/orders/T20261123-0001"]')
        await page.wait_for_selector('h1[data-order-id="T20261123-0001"]')
        assert "满50减10元券" in await page.inner_text("[data-order-coupons]")
        assert await page.get_attribute("[data-refundable]", "data-refundable") == "11850"
        await _fits(page)
        await _shot(page, "console-orders-detail")
        await page.fill("#refund-amount", "12.50")
        await page.click('[data-action="refund-part"]')
        await page.wait_for_selector("[data-notice]")
        assert await page.get_attribute("[data-refundable]", "data-refundable") == "10600"
        assert "¥12.50" in await page.inner_text("[data-refunds]")

        # More than is left is refused in words, next to the input; nothing changes.
        await page.fill("#refund-amount", "106.01")
        await page.click('[data-action="refund-part"]')
        error = page.locator('[data-error-for="amount"]')
        await error.wait_for()
        assert "超过可退金额" in await error.inner_text() and "¥106.00" in await error.inner_text()
        assert await page.get_attribute("[data-refundable]", "data-refundable") == "10600"
        await _shot(page, "console-orders-refund-error")
        assert tablet.console_errors == ["Failed to load resource: the server responded with "
                                         "a status of 409 (Conflict) "
                                         f"({live_server}/console/orders/T20261123-0001/refunds)"]
        tablet.console_errors.clear()  # the refusal the page showed, nothing else

        # The whole rest, in one button (after its confirmation).
        await page.click('[data-action="refund-whole"]')
        await page.wait_for_selector("[data-fully-refunded]")
        assert "退款已完成" in await page.inner_text("[data-notice]")
        assert await page.locator("[data-refunds] tbody tr").count() == 2
        await _fits(page)
        await _shot(page, "console-orders-refunded")

        # The list says which orders were refunded, and how far.
        await page.click('[data-nav="orders"]')
        await page.wait_for_selector('[data-refund-state="whole"]')
        await _fits(page)
        await _shot(page, "console-orders-list-refunded")

        # The day: by store and cashier, and the same table as a download.
        await page.click('[data-nav="summary"]')
        await page.wait_for_selector("[data-summary]")
        assert await page.inner_text('[data-total="orders"]') == "5"
        assert await page.inner_text('[data-total="refunds"]') == "¥118.50"
        assert await page.locator("[data-subtotal]").count() == 3
        await _fits(page)
        await _shot(page, "console-summary-tablet")
        await page.click('[data-day-nav="previous"]')
        await page.wait_for_selector("[data-empty]")
        await _shot(page, "console-summary-empty")
        tablet.assert_clean()
    finally:
        await tablet.context.close()  # type: ignore[attr-defined]

    laptop: Phone = await open_phone(chromium, live_server, **LAPTOP)
    try:
        page = laptop.page
        await _sign_in(laptop, "/console/till-summary")
        await page.wait_for_selector("[data-summary]")
        await _fits(page)
        await _shot(page, "console-summary-laptop")
        async with page.expect_download() as info:
            await page.click('[data-export="till-summary"]')
        download = await info.value
        path = await download.path()
        text = Path(path).read_text(encoding="utf-8-sig")  # noqa: ASYNC240 (a local temp file)
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0][:3] == ["日期", "门店名称", "收银员"] and rows[-1][1] == "合计"
        assert rows[-1][3] == "5" and rows[-1][9] == "118.50"
        await page.click('a[hreflang="en"]')
        await page.wait_for_selector("[data-summary]")
        assert "Daily till summary" in await page.inner_text("h1")
        await _fits(page)
        await _shot(page, "console-summary-laptop-en")
        laptop.assert_clean()
    finally:
        await laptop.context.close()  # type: ignore[attr-defined]


async def test_the_dashboard_counts_redemptions_at_the_chosen_store(
        chromium: object, live_server: str, factory: Factory, services: Services,
        settings: Settings, clock: FrozenClock) -> None:
    shop = await factory.merchant("拾光咖啡")
    await add_user(services, shop, EMAIL)
    north = await till_data.store(factory, shop, "北京路店")
    await till_data.store(factory, shop, "天河店")
    template = await factory.template(shop, name="满50减10元券", stock=100)
    campaign = await factory.campaign(shop, [
        {"name": "满50减10元券", "kind": "coupon", "coupon_template_id": template["id"],
         "quantity": 40, "weight": 1},
        {"name": "谢谢参与", "kind": "nothing", "weight": 1}], name="双十二幸运大转盘",
        limits={"per_member_per_day": 3})
    members = await factory.members_bulk(shop, 6)
    for member in members:
        for _ in range(2):
            assert (await factory.draw(member, campaign["id"])).status_code == 201
    await drain(settings, clock)
    won = await services.pool.fetch(
        "SELECT code, member_id FROM coupons WHERE campaign_id = $1 ORDER BY id LIMIT 3",
        campaign["id"])
    for n, coupon in enumerate(won):
        await till_data.order(factory, shop, f"R-{n}", member_id=coupon["member_id"],
                              subtotal=6000, coupons=(coupon["code"],),
                              store_id=north if n < 2 else None)
    laptop: Phone = await open_phone(chromium, live_server, **LAPTOP)
    try:
        page: Any = laptop.page
        await _sign_in(laptop, f"/console/campaigns/{campaign['id']}")
        await page.wait_for_selector("[data-store-filter]")
        assert not await page.is_visible("[data-store-apply]")  # the choice applies at once
        assert await page.inner_text('[data-stat="redeemed"]') == str(len(won))
        await page.select_option("#dashboard-store", north)
        await page.wait_for_url(f"**store={north}")
        await page.wait_for_selector(f'[data-store-redeemed="{north}"]')
        assert await page.inner_text('[data-stat="redeemed"]') == "2"
        await page.wait_for_function(
            "() => document.getElementById('chart-draws').dataset.drawsTotal === '12'")
        await _fits(page)
        await _shot(page, "console-dashboard-store", full=False)
        laptop.assert_clean()
    finally:
        await laptop.context.close()  # type: ignore[attr-defined]
