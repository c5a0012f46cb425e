"""The till in headless Chromium: a cashier on a tablet (820x1180) takes an order with a
coupon, priced by the quote endpoint, and the member's own page shows it; on a phone
(390x844) a cashier finds members by member code and 手机尾号, hears why a coupon is
refused, and takes a guest's order with a join code.

Screenshots: tests/screenshots/till-*.png. Every page is watched for console errors and
requests to other hosts; the refusals the test provokes (a 409 from a lookup or a quote)
are the only console errors allowed, and each is expected by name."""

from __future__ import annotations

import re
from typing import Any

from engagement.kit.state import Services
from engagement.members import member_codes
from tests.browser.conftest import SCREENSHOTS, Phone, open_phone
from tests.console.helpers import PASSWORD, add_user
from tests.factories import Factory, MerchantHandle
from tests.till.helpers import give_coupon

TABLET = {"viewport": {"width": 820, "height": 1180}, "has_touch": True, "is_mobile": True,
          "device_scale_factor": 1, "locale": "zh-CN"}
CASHIER = "cashier@shiguang.example"
_REFUSED = re.compile(r"^Failed to load resource: the server responded with a status of "
                      r"(\d{3}) .*\((\S+)\)$")


async def _sign_in(browser: Phone) -> None:
    """As a cashier does: open the till, get sent to sign in, come back to the till."""
    page: Any = browser.page
    await page.goto("/till")
    await page.wait_for_url("**/console/login**")
    await page.fill('input[name="email"]', CASHIER)
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('[data-action="login"]')
    await page.wait_for_url("**/till")
    await page.wait_for_selector("[data-till][data-ready]")


async def look_up(page: Any, query: str) -> None:
    """What a cashier does to find someone: type (or scan, which ends with Enter) a phone,
    a tail, a member code or a coupon code into the till's search."""
    await page.fill("input[name=query]", query)
    await page.press("input[name=query]", "Enter")


def _take_refusals(browser: Phone) -> list[tuple[int, str]]:
    """The API refusals the page was shown (status, path), taken out of the console errors;
    anything else stays there and fails the test."""
    taken, kept = [], []
    for error in browser.console_errors:
        found = _REFUSED.match(error)
        if found and "/api/v1/" in found.group(2):
            path = found.group(2).split("?")[0].split("/api/v1/", 1)[1]
            taken.append((int(found.group(1)), path))
        else:
            kept.append(error)
    browser.console_errors[:] = kept
    return taken


async def _fits_width(page: Any) -> bool:
    return bool(await page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


async def _small_targets(page: Any) -> list[str]:
    """What a finger may have to hit and is under 48 px tall (a checkbox counts by its
    label, which takes the tap; the skip link is for keyboards, off screen)."""
    return list(await page.evaluate("""() => [...document.querySelectorAll(
        'button, a, input:not([type=checkbox]):not([type=hidden]), label.till-coupon')]
        .filter(e => e.offsetParent !== null && !e.matches('.skip-link')
                     && e.getBoundingClientRect().height < 48)
        .map(e => e.outerHTML.slice(0, 80))"""))


async def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def _shop(factory: Factory, services: Services) -> MerchantHandle:
    shop = await factory.merchant("拾光咖啡")
    r = await factory.client.put("/api/v1/points-program", headers=shop.headers, json={
        "earn": {"per_amount": 100, "points": 1}, "join_bonus": 0, "expiry_days": None})
    assert r.status_code == 200, r.text
    await add_user(services, shop, CASHIER, role="cashier")
    return shop


async def test_a_cashier_takes_an_order_with_a_coupon_on_a_tablet(
        chromium: object, live_server: str, factory: Factory, services: Services) -> None:
    shop = await _shop(factory, services)
    member = await factory.member(shop, phone="13800138000", name="王小明")
    coupon = await give_coupon(factory, shop, member, name="满50减20", min_spend=5000,
                               discount={"type": "amount_off", "amount": 2000})
    other = await give_coupon(factory, shop, member, name="九折券",
                              discount={"type": "percent_off", "percent": 10})
    tablet = await open_phone(chromium, live_server, **TABLET)
    try:
        page: Any = tablet.page
        await _sign_in(tablet)
        assert await page.is_visible("input[name=query]")
        await _shot(page, "till-tablet-start")

        # The phone typed (or read by a scanner, which ends with Enter).
        await look_up(page, "13800138000")
        await page.wait_for_selector(f"[data-member][data-member-id='{member.id}']")
        assert (await page.inner_text("[data-member-name]")) == "王小明"
        assert (await page.inner_text("[data-member-points]")) == "0"
        assert "*******8000" in await page.inner_text("[data-member-phone]")
        boxes = page.locator("input[data-coupon-code]")
        assert await boxes.count() == 2

        # The total, then the coupon: the payable amount is the quote's, never the page's.
        await page.fill("input[name=subtotal]", "128.50")
        await page.wait_for_selector("[data-payable='12850']")
        await page.check(f"input[data-coupon-code='{coupon}']")
        await page.wait_for_selector("[data-payable='10850']")
        assert (await page.inner_text("[data-payable]")) == "¥108.50"
        assert "-¥20.00" in await page.inner_text("[data-show=discount]")
        assert "确认收款 ¥108.50" in await page.inner_text("[data-action=confirm]")
        # Two coupons that do not stack: refused in words, nothing payable meanwhile.
        await page.check(f"input[data-coupon-code='{other}']")
        await page.wait_for_selector("[data-quote-message]:not([hidden])")
        assert "不可叠加" in await page.inner_text("[data-quote-message]")
        assert await page.get_attribute("[data-payable]", "data-payable") == ""
        assert await page.is_disabled("[data-action=confirm]")
        await page.uncheck(f"input[data-coupon-code='{other}']")
        await page.wait_for_selector("[data-payable='10850']")
        assert await _fits_width(page)
        assert await _small_targets(page) == []
        await _shot(page, "till-tablet-quote")

        await page.click("[data-action=confirm]")
        receipt = page.locator("[data-order-id]")
        await receipt.wait_for()
        order_id = await receipt.get_attribute("data-order-id")
        assert order_id and order_id.startswith("till-")
        await page.wait_for_function(
            "() => document.querySelector('[data-receipt]').dataset.pointsEarned === '108'")
        assert (await page.inner_text('[data-receipt="amount"]')) == "¥108.50"
        assert (await page.inner_text('[data-receipt="discount"]')) == "¥20.00"
        assert "满50减20" in await page.inner_text('[data-receipt="coupons"]')
        assert (await page.inner_text('[data-receipt="points"]')) == "+108"
        assert (await page.inner_text('[data-receipt="balance"]')) == "108"
        assert await _fits_width(page)
        await _shot(page, "till-tablet-receipt")
        assert _take_refusals(tablet) == [(409, "orders/quote")]

        # What the service recorded, over the API.
        r = await factory.client.get(f"/api/v1/orders/{order_id}", headers=shop.headers)
        assert r.status_code == 200, r.text
        assert r.json()["amount"] == 10_850 and r.json()["member_id"] == member.id

        # 下一位: an empty till for the next customer.
        await page.click("[data-action=next]")
        await page.wait_for_selector("[data-till][data-state=find]")
        assert await page.is_hidden("[data-receipt]") and await page.is_hidden("[data-order]")
        assert (await page.input_value("input[name=query]")) == ""
        tablet.assert_clean()
    finally:
        await tablet.context.close()  # type: ignore[attr-defined]

    # The member's own page: the coupon used, the points earned.
    own = await open_phone(chromium, live_server)
    try:
        page = own.page
        await page.goto(f"/m/enter?token={member.token}")
        await page.wait_for_selector("[data-points]")
        assert (await page.inner_text("[data-points]")).strip() == "108"
        used = page.locator(f"[data-coupon-code='{coupon}']")
        assert "coupon--redeemed" in (await used.get_attribute("class") or "")
        assert "已使用" in await used.inner_text()
        assert "可使用" in await page.locator(f"[data-coupon-code='{other}']").inner_text()
        own.assert_clean()
    finally:
        await own.context.close()  # type: ignore[attr-defined]


async def test_a_cashier_finds_members_by_member_code_and_tail_on_a_phone(
        chromium: object, live_server: str, factory: Factory, services: Services) -> None:
    shop = await _shop(factory, services)
    member = await factory.member(shop, phone="13800138000", name="李雷")
    await factory.member(shop, phone="13900138000", name="韩梅梅")
    mine = await give_coupon(factory, shop, member, name="满30减5", min_spend=3000,
                             discount={"type": "amount_off", "amount": 500})
    someone = await factory.member(shop, name="路人")
    theirs = await give_coupon(factory, shop, someone, name="别人的券")
    code, _ = await member_codes.issue(services.redis, shop.id, member.id,
                                       services.clock.now())
    phone = await open_phone(chromium, live_server)
    try:
        page: Any = phone.page
        await _sign_in(phone)
        assert await _fits_width(page)
        await _shot(page, "till-phone-start")

        # The camera: headless Chromium has none, and the page says so in words.
        await page.click("[data-action=scan]")
        await page.wait_for_selector("[data-message]:not([hidden])")
        assert "摄像头" in await page.inner_text("[data-message]")

        # The member code the member home shows, typed or scanned.
        await page.fill("input[name=query]", code)
        await page.click("[data-action=lookup]")
        await page.wait_for_selector(f"[data-member][data-member-id='{member.id}']")
        assert (await page.inner_text("[data-member-name]")) == "李雷"
        assert await page.locator(f"input[data-coupon-code='{mine}']").count() == 1
        # Someone else's coupon scanned for this member: 不是本人的券.
        await look_up(page, theirs)
        await page.wait_for_selector("[data-message]:not([hidden])")
        assert "不是本人的券" in await page.inner_text("[data-message]")
        # Their own coupon scanned: ticked.
        await look_up(page, mine)
        await page.wait_for_function(
            f"() => document.querySelector(\"input[data-coupon-code='{mine}']\").checked")
        assert await _fits_width(page)
        await _shot(page, "till-phone-coupon")
        # Below the coupon's minimum spend: 未满最低消费, with the amount it needs.
        await page.fill("input[name=subtotal]", "20")
        await page.wait_for_selector("[data-quote-message]:not([hidden])")
        assert "未满最低消费：满¥30.00" in await page.inner_text("[data-quote-message]")
        await page.fill("input[name=subtotal]", "45.5")
        await page.wait_for_selector("[data-payable='4050']")
        assert await _fits_width(page)
        assert await _small_targets(page) == []
        await _shot(page, "till-phone-member")

        # 手机尾号: two members end in 8000; the cashier picks one.
        await page.click("[data-action=reset]")
        await look_up(page, "8000")
        picks = page.locator("[data-pick-member]")
        await picks.first.wait_for()
        assert await picks.count() == 2
        assert "2 位" in await page.inner_text("[data-message]")
        assert await _fits_width(page)
        assert await _small_targets(page) == []
        await _shot(page, "till-phone-tail")
        await page.click(f"[data-pick-member='{member.id}']")
        await page.wait_for_selector(f"[data-member][data-member-id='{member.id}']")

        # An expired member code: said so, with what to do.
        await page.click("[data-action=reset]")
        await look_up(page, "123456789012345678")
        await page.wait_for_selector("[data-message]:not([hidden])")
        assert "会员码无效或已过期" in await page.inner_text("[data-message]")
        assert sorted(_take_refusals(phone)) == [
            (404, "members/lookup"), (409, "members/lookup"), (409, "orders/quote")]
        phone.assert_clean()
    finally:
        await phone.context.close()  # type: ignore[attr-defined]


async def test_a_guest_pays_and_is_shown_a_join_code_on_a_phone(
        chromium: object, live_server: str, factory: Factory, services: Services) -> None:
    shop = await _shop(factory, services)
    phone = await open_phone(chromium, live_server)
    try:
        page: Any = phone.page
        await _sign_in(phone)
        await look_up(page, "13912345678")
        await page.wait_for_selector("[data-guest]:not([hidden])")
        assert "13912345678" in await page.inner_text("[data-guest]")
        assert await page.is_hidden("[data-coupons-box]")
        await page.fill("input[name=subtotal]", "35")
        await page.wait_for_selector("[data-payable='3500']")
        await _shot(page, "till-phone-guest")
        await page.click("[data-action=confirm]")
        await page.locator("[data-order-id]").wait_for()
        order_id = await page.get_attribute("[data-order-id]", "data-order-id")
        qr = page.locator("[data-join-qr]")
        await qr.wait_for()
        await page.wait_for_function(
            "() => { const i = document.querySelector('[data-join-qr]');"
            " return i.complete && i.naturalWidth > 0; }")
        assert (await page.inner_text('[data-receipt="amount"]')) == "¥35.00"
        assert await page.is_hidden("[data-receipt-points-row]")
        assert await _fits_width(page)
        assert await _small_targets(page) == []
        await _shot(page, "till-phone-guest-receipt")
        r = await factory.client.get(f"/api/v1/orders/{order_id}", headers=shop.headers)
        assert r.status_code == 200 and r.json()["member_id"] is None

        # In English, the same page.
        await page.click('a[hreflang="en"]')
        await page.wait_for_selector("[data-till][data-ready]")
        assert await page.get_attribute("html", "lang") == "en"
        assert await page.get_attribute("input[name=query]", "placeholder") == \
            "Phone, last 4 digits or a code"
        assert "Look up" in await page.inner_text("[data-action=lookup]")
        assert await _fits_width(page)
        await _shot(page, "till-phone-en")
        phone.assert_clean()
    finally:
        await phone.context.close()  # type: ignore[attr-defined]


async def test_a_lost_answer_is_retried_as_the_same_order(
        chromium: object, live_server: str, factory: Factory, services: Services) -> None:
    """The order reaches the service but its answer is lost: the page says so, keeps the
    total and the ticks as they were, and the retry replays the same order id, so the
    member pays once, the coupon is used once and the points come once."""
    shop = await _shop(factory, services)
    member = await factory.member(shop, phone="13800138000", name="王小明")
    coupon = await give_coupon(factory, shop, member, name="满50减20", min_spend=5000,
                               discount={"type": "amount_off", "amount": 2000})
    phone = await open_phone(chromium, live_server)
    sent: list[str] = []

    async def lose_first_answer(route: Any) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        sent.append(route.request.post_data)
        if len(sent) == 1:
            await route.fetch()  # the service takes the order...
            await route.abort()  # ...and the answer never arrives
        else:
            await route.continue_()

    try:
        page: Any = phone.page
        await page.route("**/api/v1/orders", lose_first_answer)
        await _sign_in(phone)
        await look_up(page, "13800138000")
        await page.wait_for_selector(f"[data-member][data-member-id='{member.id}']")
        await page.fill("input[name=subtotal]", "128.50")
        await page.check(f"input[data-coupon-code='{coupon}']")
        await page.wait_for_selector("[data-payable='10850']")
        await page.click("[data-action=confirm]")
        await page.wait_for_selector("[data-quote-message]:not([hidden])")
        assert "网络不通" in await page.inner_text("[data-quote-message]")
        assert await page.is_disabled("input[name=subtotal]")
        assert await page.is_disabled(f"input[data-coupon-code='{coupon}']")
        await _shot(page, "till-phone-retry")
        await page.click("[data-action=confirm]")
        await page.locator("[data-order-id]").wait_for()
        assert len(sent) == 2 and sent[0] == sent[1]
        await page.wait_for_function(
            "() => document.querySelector('[data-receipt]').dataset.pointsEarned === '108'")
        r = await factory.client.get(f"/api/v1/members/{member.id}", headers=shop.headers)
        assert r.json()["points"] == 108
        orders = await services.pool.fetchval(
            "SELECT count(*) FROM orders WHERE merchant_id = $1", shop.id)
        assert orders == 1
        errors = phone.console_errors
        assert len(errors) == 1 and "net::ERR_FAILED" in errors[0], errors
        errors.clear()
        phone.assert_clean()
    finally:
        await phone.context.close()  # type: ignore[attr-defined]
