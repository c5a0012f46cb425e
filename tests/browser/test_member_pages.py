"""The member's loyalty pages on a 390x844 phone, in headless Chromium: the tier progress on
the home, redeeming in the points mall through its confirmation sheet (loading, a double
tap, refusals in words, a lost answer retried), the redemption in the points history, the
birthday given once in the profile, the empty states, and all of it in English (also on a
360 px phone).
Screenshots: tests/screenshots/member-*.png."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.browser.conftest import Phone, open_phone
from tests.factories import Factory, MerchantHandle
from tests.loyalty.helpers import adjust, pay, set_program

SHEET = "[data-sheet]"
CONFIRM = '[data-sheet] [data-action="confirm"]'
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


async def _shop(factory: Factory, *, name: str = "拾光咖啡", tier: str = "银卡",
                reward: str = "满500减50", stock: int = 3,
                expiry_days: int | None = None) -> tuple[MerchantHandle, str]:
    shop = await factory.merchant(name)
    await set_program(factory.client, shop, expiry_days=expiry_days)  # 1 point per ¥1
    r = await factory.client.put("/api/v1/tiers", json={"tiers": [
        {"name": tier, "min_spend": 50_000, "window_days": 30}]}, headers=shop.headers)
    assert r.status_code == 200, r.text
    template = await factory.template(shop, name=reward, min_spend=50_000,
                                      discount={"type": "amount_off", "amount": 5_000})
    r = await factory.client.post("/api/v1/rewards", json={
        "coupon_template_id": template["id"], "cost_points": 300, "stock": stock},
        headers=shop.headers)
    assert r.status_code == 201, r.text
    return shop, str(r.json()["id"])


async def _fits(page: Any) -> None:
    """No sideways scroll, and every control is wholly on screen and not cut inside."""
    assert await page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    cut = await page.evaluate("""() => [...document.querySelectorAll(
        'a.btn, button, .btn, input, .shortcut, [data-action]')]
        .filter(el => el.offsetParent !== null || getComputedStyle(el).position === 'fixed')
        .filter(el => { const r = el.getBoundingClientRect();
          return r.width > 0 && (r.left < 0 || r.right > window.innerWidth
                                  || el.scrollWidth > el.clientWidth + 1); })
        .map(el => el.textContent.trim() || el.outerHTML.slice(0, 60))""")
    assert cut == []


def _take_refusals(phone: Phone, path: str) -> list[str]:
    """Chromium logs a 409 the sheet handles as a console error: take those out."""
    refused = [e for e in phone.console_errors if "status of 409" in e and path in e]
    phone.console_errors[:] = [e for e in phone.console_errors if e not in refused]
    return refused


async def test_a_member_redeems_in_the_mall_and_finds_it_in_the_history(
        phone: Phone, factory: Factory) -> None:
    shop, _ = await _shop(factory, expiry_days=20)
    member = await factory.member(shop, name="小林")
    await pay(factory.client, member, "o-1", 38_000)  # 380 points; ¥120 short of silver
    page: Any = phone.page
    await page.goto(f"/m/enter?token={member.token}")
    line = page.locator("[data-tier-line]")
    assert (await line.inner_text()).strip() == "再消费 ¥120 升级银卡"
    await _fits(page)
    await phone.screenshot("member-home-tier")

    await page.click('[data-shortcut="mall"]')
    await page.wait_for_url("**/m/mall")
    assert (await page.inner_text("[data-balance]")).strip() == "380"
    assert "剩 3 件" in await page.inner_text("[data-stock]")
    await _fits(page)
    await phone.screenshot("member-mall")

    # Cancel takes nothing.
    await page.click('[data-action="redeem"]')
    await page.wait_for_selector(f'{SHEET}[data-state="confirm"]')
    assert (await page.inner_text("[data-sheet-question]")).strip() == "用 300 积分兑换 满500减50？"
    assert (await page.inner_text("[data-sheet-after]")).strip() == "兑换后剩余 80 积分"
    await _fits(page)
    await phone.screenshot("member-mall-sheet")
    await page.click('[data-sheet] [data-action="cancel"]')
    assert not await page.is_visible(SHEET)

    # Confirm: loading while the answer is on its way; a second tap sends nothing more.
    await page.click('[data-action="redeem"]')
    keys: list[str] = []
    release = asyncio.Event()

    async def held(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        await release.wait()
        await route.continue_()

    await page.route("**/api/v1/rewards/*/redemptions", held)
    await page.click(CONFIRM)
    await page.wait_for_selector(f'{SHEET}[data-state="loading"]')
    assert await page.is_disabled(CONFIRM)
    assert (await page.inner_text(CONFIRM)).strip() == "兑换中…"
    await page.locator(CONFIRM).dispatch_event("click")  # a double tap
    await page.evaluate("document.querySelector('[data-sheet-form]').requestSubmit()")
    await phone.screenshot("member-mall-loading")
    release.set()
    await page.wait_for_url("**/m/mall?redeemed=*")
    await page.unroute("**/api/v1/rewards/*/redemptions")
    assert len(keys) == 1
    done = page.locator("[data-redeemed]")
    assert "兑换成功" in await done.inner_text()
    code = await done.get_attribute("data-coupon-code")
    pool = factory.services.pool
    assert await pool.fetchval("SELECT count(*) FROM reward_redemptions") == 1
    assert await pool.fetchval("SELECT code FROM coupons WHERE source = 'mall'") == code
    assert code in await done.inner_text()
    await _fits(page)
    await phone.screenshot("member-mall-done")
    await page.click('[data-action="done"]')
    await page.wait_for_url("**/m/mall")
    assert (await page.inner_text("[data-balance]")).strip() == "80"
    assert "剩 2 件" in await page.inner_text("[data-stock]")
    assert "还差 220 积分" in await page.inner_text("[data-reward]")

    await page.click('[data-action="open-points"]')
    await page.wait_for_url("**/m/points")
    entries = await page.eval_on_selector_all(
        "[data-entry]", "els => els.map(e => [e.dataset.reason, e.dataset.delta, "
                        "e.querySelector('strong').textContent.trim()])")
    assert entries == [["mall", "-300", "积分商城兑换"], ["order", "380", "消费获得"]]
    assert (await page.inner_text("[data-balance]")).strip() == "80"
    # The 80 left of the order's points expire in 20 days (2026-12-13, Shanghai).
    assert "30 天内将有 80 积分过期" in await page.inner_text("[data-expiring]")
    assert await page.get_attribute("[data-expiring-day]", "data-expiring-day") == "2026-12-13"
    await _fits(page)
    await phone.screenshot("member-points")


async def test_refusals_are_said_in_words_and_a_lost_answer_redeems_once(
        phone: Phone, factory: Factory) -> None:
    shop, reward_id = await _shop(factory, stock=1)
    member, rival = await factory.member(shop), await factory.member(shop)
    await adjust(factory.client, member, 700)
    await adjust(factory.client, rival, 300)
    page: Any = phone.page
    await page.goto(f"/m/enter?token={member.token}")
    await page.goto("/m/mall")
    # Someone else takes the last one while the sheet is open.
    await page.click('[data-action="redeem"]')
    r = await factory.client.post(f"/api/v1/rewards/{reward_id}/redemptions",
                                  headers=rival.headers)
    assert r.status_code == 201
    await page.click(CONFIRM)
    await page.wait_for_selector(f'{SHEET}[data-state="error"]')
    assert "手慢了，这件已经兑完了。积分没有扣。" in await page.inner_text("[data-sheet-error]")
    assert await page.is_hidden(CONFIRM)
    assert (await page.inner_text('[data-sheet] [data-action="cancel"]')).strip() == "知道了"
    await _fits(page)
    await phone.screenshot("member-mall-out-of-stock")
    assert len(_take_refusals(phone, "/redemptions")) == 1
    # 知道了 brings the page up to date: the reward is gone.
    async with page.expect_navigation():
        await page.click('[data-sheet] [data-action="cancel"]')
    await page.wait_for_selector('[data-reward] [data-state="gone"]')
    assert await page.locator('[data-action="redeem"]').count() == 0

    # Points spent elsewhere since the page loaded: said in words.
    r = await factory.client.post("/api/v1/rewards", json={
        "coupon_template_id": (await factory.template(shop, name="拿铁买一送一"))["id"],
        "cost_points": 500, "stock": 5}, headers=shop.headers)
    await page.reload()
    await adjust(factory.client, member, -300)
    await page.click(f'[data-reward-id="{r.json()["id"]}"] [data-action="redeem"]')
    await page.click(CONFIRM)
    await page.wait_for_selector(f'{SHEET}[data-state="error"]')
    assert "积分不足，兑换这件需要 500 积分。" in await page.inner_text("[data-sheet-error]")
    await phone.screenshot("member-mall-short")
    assert len(_take_refusals(phone, "/redemptions")) == 1
    # 知道了 after a final refusal loads the page afresh: wait for it before the next step.
    async with page.expect_navigation():
        await page.click('[data-sheet] [data-action="cancel"]')

    # The answer is lost on the way back: 重试 sends the same key, and it redeems once.
    await adjust(factory.client, member, 600)
    await page.reload()
    keys: list[str] = []

    async def lose_the_first_answer(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            await route.fetch()  # the redemption is made...
            await route.abort("connectionreset")  # ...and its answer lost
        else:
            await route.continue_()

    await page.route("**/api/v1/rewards/*/redemptions", lose_the_first_answer)
    await page.click(f'[data-reward-id="{r.json()["id"]}"] [data-action="redeem"]')
    await page.click(CONFIRM)
    await page.wait_for_selector(f'{SHEET}[data-state="error"]')
    assert "网络未连接" in await page.inner_text("[data-sheet-error]")
    assert (await page.inner_text(CONFIRM)).strip() == "重试"
    phone.console_errors[:] = [e for e in phone.console_errors if "ERR_CONNECTION_RESET" not in e]
    await page.click(CONFIRM)
    await page.wait_for_url("**/m/mall?redeemed=*")
    assert keys[0] == keys[1]
    pool = factory.services.pool
    assert await pool.fetchval("SELECT count(*) FROM reward_redemptions WHERE member_id = $1",
                               member.id) == 1
    assert await pool.fetchval("SELECT points FROM members WHERE id = $1", member.id) == 500


async def test_a_member_gives_the_birthday_once_in_the_profile(
        phone: Phone, factory: Factory) -> None:
    shop = await factory.merchant("拾光咖啡")
    member = await factory.member(shop)
    page: Any = phone.page
    await page.goto(f"/m/enter?token={member.token}")
    await page.click('[data-shortcut="profile"]')
    await page.wait_for_url("**/m/profile")
    await _fits(page)
    await phone.screenshot("member-profile")
    await page.fill('input[name="name"]', "林小姐")
    await page.fill('input[name="birthday"]', "1990-05-20")
    # While the save is on its way the button says so and takes no second press: a
    # listener after the page's own keeps this submit from leaving, to look at the button.
    await page.evaluate("""document.querySelector('[data-profile-form]')
        .addEventListener('submit', (event) => event.preventDefault(), {once: true})""")
    await page.click('[data-action="save"]')
    save = page.locator('[data-action="save"]')
    assert await save.is_disabled() and (await save.inner_text()).strip() == "保存中…"
    await page.evaluate("document.querySelector('[data-profile-form]').submit()")
    await page.wait_for_url("**/m/profile?saved=1")
    assert (await page.inner_text("[data-notice]")).strip() == "已保存"
    assert (await page.inner_text("[data-birthday]")).strip() == "1990 年 5 月 20 日"
    assert "只能" not in await page.inner_text("[data-birthday-locked]")
    assert "请联系商家更改" in await page.inner_text("[data-birthday-locked]")
    assert await page.locator('input[name="birthday"]').count() == 0
    await _fits(page)
    await phone.screenshot("member-profile-saved")
    row = await factory.services.pool.fetchrow(
        "SELECT name, birthday::text AS b FROM members WHERE id = $1", member.id)
    assert (row["name"], row["b"]) == ("林小姐", "1990-05-20")
    await page.goto("/m")
    assert "林小姐，你好" in await page.inner_text("h1")


async def test_empty_states(phone: Phone, factory: Factory) -> None:
    shop = await factory.merchant("拾光咖啡")
    member = await factory.member(shop)
    page: Any = phone.page
    await page.goto(f"/m/enter?token={member.token}")
    assert await page.locator("[data-tier-progress]").count() == 0  # no tiers: nothing
    await page.goto("/m/mall")
    assert "商家还没有上架可兑换的礼品" in await page.inner_text("[data-empty]")
    await _fits(page)
    await phone.screenshot("member-mall-empty")
    await page.click("[data-empty] a")
    await page.wait_for_url("**/m/points")
    assert "还没有积分记录" in await page.inner_text("[data-empty]")
    await _fits(page)
    await phone.screenshot("member-points-empty")


@pytest.mark.parametrize("width", [390, 360])
@pytest.mark.parametrize("path", ["/m", "/m/mall", "/m/points", "/m/profile"])
async def test_every_page_in_english(chromium: object, live_server: str, factory: Factory,
                                     app: object, path: str, width: int) -> None:
    shop, _ = await _shop(factory, name="Sunny Cafe", tier="Silver", reward="Coffee ¥50 off")
    member = await factory.member(shop, name="Lin")
    await pay(factory.client, member, "o-1", 38_000)
    await adjust(factory.client, member, -80, reason="Spilt latte")
    phone = await open_phone(chromium, live_server, locale="en-US",
                             viewport={"width": width, "height": 844})
    try:
        page: Any = phone.page
        await page.goto(f"/m/enter?token={member.token}")
        await page.goto(f"{path}?lang=en")
        if path == "/m/mall":
            await page.click('[data-action="redeem"]')
            await page.wait_for_selector(f'{SHEET}[data-state="confirm"]')
            assert (await page.inner_text("[data-sheet-question]")).strip() \
                == "Redeem Coffee ¥50 off for 300 points?"
        text = await page.inner_text("body")
        leftover = [line for line in text.splitlines()
                    if _CJK.search(line.replace("中文", "").replace("¥", ""))]
        assert leftover == []
        if path == "/m":
            assert (await page.inner_text("[data-tier-line]")).strip() \
                == "Spend ¥120 more to reach Silver"
        await _fits(page)
        suffix = "" if width == 390 else f"-{width}"
        await phone.screenshot(f"member-en-{path.strip('/').replace('/', '-')}{suffix}")
        phone.assert_clean()
    finally:
        await phone.context.close()  # type: ignore[attr-defined]
