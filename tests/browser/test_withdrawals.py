"""Commission out in headless Chromium: a member on a 390x844 phone asks for a withdrawal
(a refusal, the confirmation step, the request), in Chinese and in English; a merchant on a
laptop and a tablet approves a held join and pays a withdrawal with the console alone.
Screenshots: tests/screenshots/withdraw-*.png, console-withdrawals-*.png and
console-bindings-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from engagement.kit.state import Services
from tests.browser.conftest import SCREENSHOTS, Phone, open_phone
from tests.browser.test_console import EMAIL, LAPTOP, TABLET, _fits_width, _sign_in
from tests.console.helpers import add_user
from tests.factories import Factory
from tests.referrals.helpers import commissions, order, program, share_code
from tests.referrals.withdrawal_helpers import balance, earner, join_from, withdraw

# A form refused on purpose answers 409 or 422: Chromium logs that page load as an error.
_REFUSED = ("the server responded with a status of 409",
            "the server responded with a status of 422")


def _unexpected(phone: Phone) -> list[str]:
    return [e for e in phone.console_errors if not any(r in e for r in _REFUSED)]


async def _no_overflow(page: Any) -> list[str]:
    """Elements of the withdrawal card cut off or sticking out of the viewport."""
    return list(await page.evaluate("""() => {
      const out = [], width = document.documentElement.clientWidth;
      for (const el of document.querySelectorAll('#withdraw *, [data-commission] *')) {
        const box = el.getBoundingClientRect();
        if (box.width && (box.right > width + 1 || box.left < -1))
          out.push(el.outerHTML.slice(0, 80));
        if (el.matches('button, .btn, dt, dd') && el.scrollWidth > el.clientWidth + 1)
          out.push('cut: ' + el.textContent);
      }
      return out;
    }"""))


async def test_a_member_requests_a_withdrawal_on_the_phone(
        chromium: object, live_server: str, factory: Factory, services: Services) -> None:
    _, member = await earner(factory, services, available=1000, min_withdrawal=200,
                             name="小林")
    phone = await open_phone(chromium, live_server)
    try:
        page: Any = phone.page
        await page.goto(f"/m/enter?token={member.token}&next=/m/referrals")
        await page.goto("/m/referrals#withdraw")
        assert (await page.text_content("[data-available]")).strip() == "¥10"
        assert (await page.text_content("[data-requested]")).strip() == "¥0"
        assert await _fits_width(page) and await _no_overflow(page) == []
        await page.locator("#withdraw").scroll_into_view_if_needed()
        await phone.screenshot("withdraw-form")

        await page.fill("[data-withdraw-amount]", "12")
        await page.click('[data-action="withdraw"]')
        await page.wait_for_selector("[data-withdraw-error]")
        assert "最多可提现 ¥10" in await page.text_content("[data-withdraw-error]")
        await page.locator("#withdraw").scroll_into_view_if_needed()
        await phone.screenshot("withdraw-too-much")

        await page.fill("[data-withdraw-amount]", "6")
        await page.click('[data-action="withdraw"]')
        await page.wait_for_selector("[data-withdraw-confirm]")
        assert (await page.text_content("[data-confirm-amount]")).strip() == "¥6"
        assert await _fits_width(page) and await _no_overflow(page) == []
        await page.locator("[data-withdraw-confirm]").scroll_into_view_if_needed()
        await phone.screenshot("withdraw-confirm")
        await page.click('[data-action="withdraw-confirm"]')
        await page.wait_for_selector("[data-notice]")
        assert (await page.text_content("[data-available]")).strip() == "¥4"
        assert (await page.text_content("[data-requested]")).strip() == "¥6"
        assert await page.locator('[data-withdrawal][data-status="requested"]').count() == 1
        await page.locator("#withdraw").scroll_into_view_if_needed()
        await phone.screenshot("withdraw-requested")
        shown = await balance(factory.client, member)
        assert (shown["available"], shown["requested"]) == (400, 600)

        await page.goto("/m/referrals?lang=en#withdraw")
        text = await page.text_content("#withdraw")
        assert "Withdraw" in text and "提现" not in text
        assert await _fits_width(page) and await _no_overflow(page) == []
        await page.locator("#withdraw").scroll_into_view_if_needed()
        await phone.screenshot("withdraw-english")
        assert _unexpected(phone) == [] and phone.external_requests == []
    finally:
        await phone.context.close()  # type: ignore[attr-defined]


async def test_a_member_with_nothing_to_withdraw_sees_how_to_earn(
        phone: Phone, factory: Factory) -> None:
    shop = await factory.merchant("拾光咖啡")
    await program(factory, shop)
    member = await factory.member(shop)
    page: Any = phone.page
    await page.goto(f"/m/enter?token={member.token}")
    await page.goto("/m/referrals#withdraw")
    await page.wait_for_selector("[data-withdraw-empty]")
    assert await _fits_width(page) and await _no_overflow(page) == []
    await page.locator("#withdraw").scroll_into_view_if_needed()
    await phone.screenshot("withdraw-empty")
    await page.click('[data-action="go-share"]')
    assert page.url.endswith("#link-title")


@pytest.mark.parametrize("size", ["laptop", "tablet"])
async def test_a_merchant_approves_a_held_join_and_pays_a_withdrawal(
        chromium: object, live_server: str, factory: Factory, services: Services,
        size: str) -> None:
    shop = await factory.merchant("拾光咖啡")
    await add_user(services, shop, EMAIL)
    # A held join: the second join through one link from one address within the hour.
    await program(factory, shop, levels=[{"rate_bp": 1000}], hold_days=0,
                  max_joins_per_ip_per_hour=1)
    sharer = await factory.member(shop, name="林分享", phone="13800001111")
    code = await share_code(factory, sharer)
    await join_from(services, shop, "13900000001", code, "203.0.113.7", "好友甲")
    held, status = await join_from(services, shop, "13900000002", code, "203.0.113.7", "好友乙")
    assert status == "held"
    # And a withdrawal to pay, from another member.
    _, payee = await earner(factory, services, available=2580, shop=shop, name="陈一",
                            phone="13700001234")
    request = (await withdraw(factory.client, payee, 2580)).json()

    browser = await open_phone(chromium, live_server, **(LAPTOP if size == "laptop" else TABLET))
    try:
        page: Any = browser.page
        await _sign_in(browser, "/console/bindings")
        assert page.url.endswith("/console/bindings")
        card = page.locator(f'[data-binding="{held}"]')
        assert "同一网络一小时内通过同一个分享链接加入的人太多" in await card.text_content()
        assert await _fits_width(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"console-bindings-{size}.png"),
                              full_page=True)
        await card.locator('[data-action="approve-binding"]').click()
        await page.wait_for_selector("[data-notice]")
        assert await page.locator("[data-binding]").count() == 0
        assert await page.locator(".empty-state").count() == 1
        await page.screenshot(path=str(SCREENSHOTS / f"console-bindings-done-{size}.png"),
                              full_page=True)

        await page.click('[data-nav="withdrawals"]')
        await page.wait_for_url("**/console/withdrawals")
        row = page.locator(f'[data-withdrawal-id="{request["id"]}"]')
        assert "¥25.8" in await row.text_content()
        await row.locator('[data-action="approve"]').click()
        await row.locator('input[name="method"][value="bank"] + span').click()
        await row.locator('input[name="reference"]').fill("TX20261123-0001")
        assert await _fits_width(page)
        await page.screenshot(path=str(SCREENSHOTS / f"console-withdrawals-pay-{size}.png"),
                              full_page=True)
        await row.locator('[data-action="pay"]').click()
        await page.wait_for_selector("[data-notice]")
        assert page.url.split("?")[1].startswith("status=paid")
        paid = page.locator(f'[data-withdrawal-id="{request["id"]}"]')
        text = await paid.text_content()
        assert "银行转账" in text and "TX20261123-0001" in text
        assert await _fits_width(page)
        await page.screenshot(path=str(SCREENSHOTS / f"console-withdrawals-paid-{size}.png"),
                              full_page=True)
        await page.click('[data-tab="requested"]')
        await page.wait_for_selector(".empty-state")
        await page.goto("/console/withdrawals?status=paid&lang=en")
        main = await page.text_content("main")
        assert "Withdrawals" in main and "Bank transfer" in main and "佣金提现" not in main
        assert await _fits_width(page)
        await page.screenshot(path=str(SCREENSHOTS / f"console-withdrawals-en-{size}.png"),
                              full_page=True)
        browser.assert_clean()
    finally:
        await browser.context.close()  # type: ignore[attr-defined]

    shown = await balance(factory.client, payee)
    assert (shown["available"], shown["requested"], shown["paid"]) == (0, 0, 2580)
    # The approved join now earns: the friend's order gives the sharer pending commission.
    assert (await order(factory.client, shop, "after-approval", held, 10_000)).status_code == 201
    ledger = await commissions(factory.client, shop, sharer.id)
    assert ledger["balance"]["held"] == 0
    assert ledger["balance"]["pending"] + ledger["balance"]["available"] == 1000
