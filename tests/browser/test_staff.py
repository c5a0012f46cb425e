"""An owner manages staff in headless Chromium, on a laptop (1280x800) and a tablet
(820x1180): adds a store, adds a cashier (the password generated and shown once), the
cashier signs in in another browser and lands on the till, opens a console page and is told
where to go; the owner removes the cashier and the cashier's next page load is the sign-in
page. Also the settings page: an API key created (shown once) and one revoked.

Screenshots: tests/screenshots/staff-<viewport>-*.png."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from engagement.kit.state import Services
from tests.browser.conftest import SCREENSHOTS, Phone, open_phone
from tests.console.helpers import PASSWORD, add_user
from tests.factories import Factory

LAPTOP = {"viewport": {"width": 1280, "height": 800}, "has_touch": False, "is_mobile": False,
          "device_scale_factor": 1, "locale": "zh-CN"}
TABLET = {"viewport": {"width": 820, "height": 1180}, "has_touch": True, "is_mobile": True,
          "device_scale_factor": 1, "locale": "zh-CN"}
OWNER = "owner@shiguang.example"
CASHIER = "cashier@shiguang.example"
# Chromium logs each 4xx page load as a console error: the cashier's browser expects these.
_EXPECTED_REFUSAL = re.compile(r"^Failed to load resource: the server responded with a "
                               r"status of (403|404) ")


async def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def _fits_width(page: Any) -> bool:
    return bool(await page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


async def _sign_in(browser: Phone, email: str, password: str) -> None:
    page: Any = browser.page
    await page.goto("/console/login")
    await page.fill('input[name="email"]', email)
    await page.fill('input[name="password"]', password)
    await page.click('[data-action="login"]')
    await page.wait_for_url(lambda url: "/console/login" not in url)


@pytest.mark.parametrize("device", ["laptop", "tablet"])
async def test_an_owner_adds_and_removes_a_cashier(
        chromium: object, live_server: str, factory: Factory, services: Services,
        device: str) -> None:
    options = LAPTOP if device == "laptop" else TABLET
    shop = await factory.merchant("拾光咖啡")
    await add_user(services, shop, OWNER)
    owner = await open_phone(chromium, live_server, **options)
    cashier = await open_phone(chromium, live_server, **options)
    try:
        page: Any = owner.page
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await _sign_in(owner, OWNER, PASSWORD)
        assert page.url.endswith("/console/campaigns")
        for key in ("staff", "stores", "settings"):
            assert await page.locator(f'[data-nav="{key}"]').count() == 1

        # A store first: empty, then one.
        await page.click('[data-nav="stores"]')
        await page.wait_for_selector("[data-stores-empty]")
        await _shot(page, f"staff-{device}-stores-empty")
        await page.fill('input[name="name"]', "人民路店")
        await page.click('[data-action="add-store"]')
        await page.wait_for_selector("[data-notice]")
        assert "人民路店" in await page.inner_text("[data-stores]")
        await page.fill('input[name="name"]', "人民路店")
        await page.click('[data-action="add-store"]')
        await page.wait_for_selector('[data-error-for="name"]')
        assert "已经有一家同名的门店了" in await page.inner_text('[data-error-for="name"]')
        # Chromium logs the form's 409 as a console error: this one is expected.
        assert [_EXPECTED_REFUSAL.match(e) is None and "status of 409" in e
                for e in owner.console_errors] == [True]
        owner.console_errors.clear()
        assert await _fits_width(page)
        await _shot(page, f"staff-{device}-stores")

        # The cashier, with a generated password shown once.
        await page.click('[data-nav="staff"]')
        await page.wait_for_selector("[data-staff-empty]")
        await _shot(page, f"staff-{device}-staff-alone")
        await page.fill('input[name="email"]', CASHIER)
        await page.click('label.role-choice:has(input[value="cashier"])')
        await page.select_option('select[name="store_id"]', label="人民路店")
        await page.click('[data-action="add-staff"]')
        await page.wait_for_selector("[data-new-password]")
        password = await page.input_value("[data-new-password]")
        assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", password)
        assert await _fits_width(page)
        await _shot(page, f"staff-{device}-added")
        await page.click('[data-action="back-to-staff"]')
        row = page.locator(f'[data-email="{CASHIER}"]')
        assert "收银员" in await row.inner_text() and "人民路店" in await row.inner_text()
        assert await _fits_width(page)
        await _shot(page, f"staff-{device}-staff")

        # The cashier signs in in another browser: the till (a 404 until it is mounted).
        till: Any = cashier.page
        await _sign_in(cashier, CASHIER, password)
        assert till.url.endswith("/till")
        await till.goto("/console")
        await till.wait_for_selector('[data-role-forbidden="cashier"]')
        assert await till.get_attribute('[data-action="open-till"]', "href") == "/till"
        assert await _fits_width(till)
        await _shot(till, f"staff-{device}-cashier-forbidden")

        # The owner removes the cashier; the cashier's next page load is the sign-in page.
        await row.locator('[data-action="manage"]').click()
        await page.wait_for_selector('[data-action="remove-staff"]')
        assert await _fits_width(page)
        await _shot(page, f"staff-{device}-member")
        await page.click('[data-action="remove-staff"]')
        await page.wait_for_selector("[data-notice]")
        assert await page.locator(f'[data-email="{CASHIER}"]').count() == 0
        await till.reload()
        await till.wait_for_url("**/console/login**")
        assert await till.locator('[data-action="login"]').count() == 1

        # Settings: the shop, a key created (shown once) and the old one revoked.
        await page.click('[data-nav="settings"]')
        await page.wait_for_selector("[data-api-keys]")
        await page.fill("#key_name", "收银系统")
        await page.click('[data-action="create-key"]')
        await page.wait_for_selector("[data-new-key]")
        assert (await page.input_value("[data-new-key]")).startswith("ek_")
        assert await _fits_width(page)
        await _shot(page, f"staff-{device}-key-created")
        await page.click('[data-action="back-to-settings"]')
        old = page.locator(f'[data-key-prefix="{shop.api_key[:7]}"]')
        await old.locator('[data-action="revoke-key"]').click()
        await page.wait_for_selector("[data-notice]")
        assert await old.get_attribute("data-revoked") is not None
        assert await _fits_width(page)
        await _shot(page, f"staff-{device}-settings")

        # English is complete on these pages.
        await page.click('a[hreflang="en"]')
        await page.wait_for_selector("[data-api-keys]")
        assert "API keys" in await page.inner_text("main")
        await page.goto("/console/staff")
        assert "Add a staff member" in await page.inner_text("main")
        await _shot(page, f"staff-{device}-staff-en")
        owner.assert_clean()
        assert cashier.external_requests == []
        assert all(_EXPECTED_REFUSAL.match(e) for e in cashier.console_errors), \
            cashier.console_errors
    finally:
        await owner.context.close()  # type: ignore[attr-defined]
        await cashier.context.close()  # type: ignore[attr-defined]
