"""The member code on the member home, in headless Chromium on a 390x844 phone: shown as a
QR code with its digits, refreshed on a tap and on its own before it expires, an error with
a retry when the phone is offline, and nothing usable once the last code has expired.
Screenshots: tests/screenshots/home-member-code*.png."""

from __future__ import annotations

from typing import Any

from engagement.coupons.service import issue_single
from engagement.kit.constants import MEMBER_CODE_REFRESH_SECONDS, MEMBER_CODE_TTL_SECONDS
from engagement.kit.db import transaction
from engagement.members import member_codes
from tests.browser.conftest import Phone
from tests.factories import Factory

CARD = "[data-member-code-card]"


async def _shown_code(page: Any) -> str:
    await page.wait_for_selector(f'{CARD}[data-state="ready"]')
    code = await page.get_attribute("[data-code-digits]", "data-member-code")
    assert code
    # The QR image really loaded (an <img> of the SVG route, allowed by the strict CSP).
    assert await page.evaluate(
        "() => document.querySelector('[data-code-image]').naturalWidth") > 0
    return str(code)


async def _new_code(page: Any, old: str) -> str:
    await page.wait_for_function(
        "(old) => { const d = document.querySelector('[data-code-digits]');"
        " return d.dataset.memberCode && d.dataset.memberCode !== old"
        " && d.closest('[data-member-code-card]').dataset.state === 'ready'; }", arg=old)
    return await _shown_code(page)


async def _fits(page: Any, selector: str) -> None:
    assert await page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    box = await page.locator(selector).bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390


async def test_the_home_shows_a_live_member_code_and_keeps_it_fresh(
        phone: Phone, factory: Factory) -> None:
    shop = await factory.merchant("拾光咖啡")
    template = await factory.template(shop, name="满50减10元券", min_spend=5000)
    member = await factory.member(shop, name="小林", phone="13800138000")
    async with transaction(factory.services.pool) as conn:
        await issue_single(conn, shop.id, template["id"], member.id, source="manual",
                           now=factory.services.clock.now())
    redis = factory.services.redis
    page: Any = phone.page
    await page.clock.install()
    await page.goto(f"/m/enter?token={member.token}")
    code = await _shown_code(page)
    assert await member_codes.resolve(redis, shop.id, code) == member.id
    digits = (await page.inner_text("[data-code-digits]")).strip()
    assert digits == f"{code[:6]} {code[6:12]} {code[12:]}"
    assert "会员码" in await page.inner_text("#member-code-title")
    assert "收银员" in await page.inner_text(".member-code-lead")
    assert not await page.is_visible('[data-action="retry-code"]')
    await _fits(page, CARD)
    await page.locator(CARD).scroll_into_view_if_needed()
    await phone.screenshot("home-member-code")

    # A tap fetches a new code at once; both work until each expires.
    await page.click('[data-action="refresh-code"]')
    tapped = await _new_code(page, code)
    assert await member_codes.resolve(redis, shop.id, tapped) == member.id

    # Left open, the page fetches a new code before the one on screen expires.
    await page.clock.fast_forward(MEMBER_CODE_REFRESH_SECONDS * 1000 + 1500)
    timed = await _new_code(page, tapped)
    assert await member_codes.resolve(redis, shop.id, timed) == member.id

    # Offline: the code on screen still works for a while, the card says why it cannot
    # update and offers a retry...
    await phone.context.set_offline(True)  # type: ignore[attr-defined]
    await page.click('[data-action="refresh-code"]')
    await page.wait_for_selector(f'{CARD}[data-state="error"]')
    assert "网络未连接" in await page.inner_text("[data-code-status]")
    assert await page.is_visible('[data-action="retry-code"]')
    assert await page.get_attribute("[data-code-digits]", "data-member-code") == timed
    await phone.screenshot("home-member-code-offline")

    # ...and once that code has expired, nothing usable is left on screen.
    await page.clock.fast_forward(MEMBER_CODE_TTL_SECONDS * 1000)
    await page.wait_for_selector(f'{CARD}[data-state="expired"][data-live="false"]')
    assert await page.get_attribute("[data-code-digits]", "data-member-code") is None
    assert not await page.is_visible("[data-code-image]")
    assert await page.is_visible(".member-code-expired")
    await phone.screenshot("home-member-code-expired")

    # A retry while still offline says so again; back online, a fresh code comes by itself.
    await page.click('[data-action="retry-code"]')
    await page.wait_for_selector(f'{CARD}[data-state="expired"]')
    assert "网络未连接" in await page.inner_text("[data-code-status]")
    await phone.context.set_offline(False)  # type: ignore[attr-defined]
    fresh = await _new_code(page, timed)
    assert await member_codes.resolve(redis, shop.id, fresh) == member.id
    assert await page.is_visible("[data-code-image]")
    assert not await page.is_visible('[data-action="retry-code"]')


async def test_the_member_code_in_english(phone: Phone, factory: Factory) -> None:
    shop = await factory.merchant("拾光咖啡")
    member = await factory.member(shop, name="Lin")
    page: Any = phone.page
    await page.goto(f"/m/enter?token={member.token}")
    await page.goto("/m?lang=en")
    await _shown_code(page)
    assert (await page.inner_text("#member-code-title")).strip() == "Member code"
    assert "cashier" in await page.inner_text(".member-code-lead")
    await _fits(page, CARD)
    await page.locator(CARD).scroll_into_view_if_needed()
    await phone.screenshot("home-member-code-en")
