"""The check-in page of the console on a laptop and a tablet: a merchant turns check-in on
with a three-day cycle and sees it saved. Screenshots: tests/screenshots/console-check-in-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from engagement.kit.state import Services
from tests.browser.conftest import SCREENSHOTS, open_phone
from tests.browser.test_console import EMAIL, LAPTOP, TABLET, _fits_width, _sign_in
from tests.console.helpers import add_user
from tests.factories import Factory


@pytest.mark.parametrize("size", ["laptop", "tablet"])
async def test_a_merchant_sets_up_check_in_in_the_console(
        chromium: object, live_server: str, factory: Factory, services: Services,
        size: str) -> None:
    shop = await factory.merchant("拾光咖啡")
    await add_user(services, shop, EMAIL)
    browser = await open_phone(chromium, live_server, **(LAPTOP if size == "laptop" else TABLET))
    try:
        page: Any = browser.page
        await _sign_in(browser, "/console/check-in")
        assert page.url.endswith("/console/check-in")
        await page.check('input[name="enabled"]')
        await page.fill("#cycle", "3")
        await page.click('[data-action="save-check-in"]')
        await page.wait_for_selector("[data-notice]")
        assert await page.locator("[data-check-in-days] tr[data-day]").count() == 3
        await page.fill('input[name="day-3-points"]', "20")
        await page.fill('input[name="day-3-draws"]', "1")
        await page.click('[data-action="save-check-in"]')
        await page.wait_for_selector("[data-notice]")
        assert await page.input_value('input[name="day-3-draws"]') == "1"
        assert await _fits_width(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"console-check-in-{size}.png"),
                              full_page=True)
        program = (await factory.client.get("/api/v1/check-in-program",
                                            headers=shop.headers)).json()
        assert program["enabled"] and program["rewards"][2] == {"day": 3, "points": 20,
                                                                 "draws": 1}
        browser.assert_clean()
    finally:
        await browser.context.close()  # type: ignore[attr-defined]
