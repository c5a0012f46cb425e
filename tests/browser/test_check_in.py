"""The daily check-in card on the member home, in headless Chromium on phones 390 and 360
wide: the calendar strip of the streak, today's and the next reward, the 签到 button with
its loading, success, already-done and error states (no reload), and the same button as a
plain form post without JavaScript. Screenshots: tests/screenshots/checkin-*.png."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from engagement.kit.clock import FrozenClock
from tests.browser.conftest import Phone, open_phone
from tests.factories import Factory, MemberHandle, MerchantHandle
from tests.loyalty.checkin_helpers import WEEK, check_in, set_check_in

CARD = "[data-check-in-card]"
BUTTON = '[data-action="check-in"]'
_REFUSED = "the server responded with a status of 409"


async def _member_on_a_streak(factory: Factory, clock: FrozenClock,
                              days: int) -> tuple[MerchantHandle, MemberHandle]:
    """A member who checked in on each of the ``days`` days before today (the servers' today
    is 2026-11-23 in Shanghai)."""
    shop = await factory.merchant("拾光咖啡")
    await set_check_in(factory.client, shop)
    member = await factory.member(shop, name="小林")
    today = clock.at
    for back in range(days, 0, -1):
        clock.at = datetime(2026, 11, 23 - back, 4, 0, tzinfo=UTC)
        assert (await check_in(factory.client, member)).status_code == 201
    clock.at = today
    return shop, member


async def _fits(page: Any, width: int) -> None:
    """Nothing scrolls sideways, nothing is cut off, and no label breaks onto a second line."""
    assert await page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    box = await page.locator(CARD).bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    broken = await page.evaluate("""() => {
      const out = [];
      // Labels and units: one line, nothing overflowing its box.
      for (const el of document.querySelectorAll('.check-in-day-label, .check-in-day-unit,'
          + ' .check-in-button span, .check-in-rewards dt, .check-in-streak, .section-title')) {
        const lineHeight = parseFloat(getComputedStyle(el).lineHeight) || 20;
        if (el.scrollWidth > el.clientWidth + 1
            || el.getBoundingClientRect().height > lineHeight * 1.5) {
          out.push(el.className + ': ' + el.textContent);
        }
      }
      // The number in each round pill fits inside it.
      for (const pill of document.querySelectorAll('.check-in-day-pill')) {
        const range = document.createRange();
        range.selectNodeContents(pill.firstChild);
        const text = range.getBoundingClientRect(), box = pill.getBoundingClientRect();
        if (text.left < box.left || text.right > box.right || text.height > box.height) {
          out.push('pill: ' + pill.textContent);
        }
      }
      return out;
    }""")
    assert broken == []
    cells = await page.locator(".check-in-day").all()
    for cell in cells:
        cell_box = await cell.bounding_box()
        assert cell_box and cell_box["x"] >= box["x"] and \
            cell_box["x"] + cell_box["width"] <= box["x"] + box["width"]


def _take_refusals(phone: Phone) -> list[str]:
    """Chromium logs the 409 the card handles as a console error: take those out."""
    refused = [e for e in phone.console_errors if _REFUSED in e and "/api/v1/me/check-ins" in e]
    phone.console_errors[:] = [e for e in phone.console_errors if e not in refused]
    return refused


async def test_a_member_checks_in_from_the_home_and_sees_the_streak_grow(
        phone: Phone, factory: Factory, clock: FrozenClock) -> None:
    _, member = await _member_on_a_streak(factory, clock, days=2)
    page: Any = phone.page
    await page.goto(f"/m/enter?token={member.token}")
    await page.wait_for_selector(f'{CARD}[data-state="ready"]')
    assert (await page.inner_text("#check-in-title")).strip() == "每日签到"
    assert "已连续签到 2 天" in await page.inner_text("[data-streak-line]")
    states = await page.eval_on_selector_all(
        ".check-in-day", "els => els.map(e => [e.dataset.day, e.dataset.state, e.dataset.checked])")
    assert states == [["1", "done", "true"], ["2", "done", "true"], ["3", "today", "false"],
                      ["4", "upcoming", "false"], ["5", "upcoming", "false"],
                      ["6", "upcoming", "false"], ["7", "upcoming", "false"]]
    assert (await page.inner_text("[data-today-reward]")).strip() == "10 积分"
    assert (await page.inner_text("[data-next-reward]")).strip() == "5 积分"
    assert (await page.inner_text(BUTTON)).strip() == "签到"
    assert (await page.inner_text("[data-points]")).strip() == "10"
    await _fits(page, 390)
    await page.locator(CARD).scroll_into_view_if_needed()
    await phone.screenshot("checkin-ready")

    # Loading: while the answer is on its way the button says so and cannot be tapped again.
    release = asyncio.Event()

    async def held(route: Any) -> None:
        await release.wait()
        await route.continue_()

    await page.route("**/api/v1/me/check-ins", held)
    await page.click(BUTTON)
    await page.wait_for_selector(f'{CARD}[data-state="loading"]')
    assert await page.is_disabled(BUTTON)
    assert (await page.inner_text(BUTTON)).strip() == "签到中…"
    await phone.screenshot("checkin-loading")
    release.set()
    await page.wait_for_selector(f'{CARD}[data-state="done"]')
    await page.unroute("**/api/v1/me/check-ins")
    assert "签到成功！获得 10 积分" in await page.inner_text("[data-check-in-status]")
    assert "已连续签到 3 天" in await page.inner_text("[data-streak-line]")
    assert await page.get_attribute('.check-in-day[data-day="3"]', "data-checked") == "true"
    assert (await page.inner_text("[data-points]")).strip() == "20"
    assert await page.is_disabled(BUTTON)
    assert (await page.inner_text(BUTTON)).strip() == "今日已签到"
    await _fits(page, 390)
    await phone.screenshot("checkin-done")

    # The page was not reloaded; a reload shows the same, from the server.
    await page.reload()
    await page.wait_for_selector(f'{CARD}[data-state="done"]')
    assert "已连续签到 3 天" in await page.inner_text("[data-streak-line]")
    assert await page.is_disabled(BUTTON)


async def test_already_done_and_errors_are_said_in_words(
        phone: Phone, factory: Factory, clock: FrozenClock) -> None:
    _, member = await _member_on_a_streak(factory, clock, days=0)
    page: Any = phone.page
    await page.goto(f"/m/enter?token={member.token}")
    await page.wait_for_selector(f'{CARD}[data-state="ready"]')
    assert "今天签到，开启连续签到" in await page.inner_text("[data-streak-line]")

    # Offline: an error in words, and the button stays there to try again.
    await phone.context.set_offline(True)  # type: ignore[attr-defined]
    await page.click(BUTTON)
    await page.wait_for_selector(f'{CARD}[data-state="error"]')
    assert "网络未连接" in await page.inner_text("[data-check-in-status]")
    assert not await page.is_disabled(BUTTON)
    await phone.screenshot("checkin-offline")
    await phone.context.set_offline(False)  # type: ignore[attr-defined]

    # Checked in meanwhile on another phone: the tap says so instead of failing.
    assert (await check_in(factory.client, member)).status_code == 201
    await page.click(BUTTON)
    await page.wait_for_selector(f'{CARD}[data-state="done"]')
    assert "今天已经签过到了" in await page.inner_text("[data-check-in-status]")
    await page.wait_for_function(
        "() => document.querySelector('[data-streak-line]').textContent.includes('1')")
    assert "已连续签到 1 天" in await page.inner_text("[data-streak-line]")
    assert await page.is_disabled(BUTTON)
    assert len(_take_refusals(phone)) == 1
    await phone.screenshot("checkin-already")


async def test_a_lost_answer_is_retried_with_the_same_key(
        phone: Phone, factory: Factory, clock: FrozenClock) -> None:
    _, member = await _member_on_a_streak(factory, clock, days=1)
    page: Any = phone.page
    await page.goto(f"/m/enter?token={member.token}")
    await page.wait_for_selector(f'{CARD}[data-state="ready"]')
    keys: list[str] = []

    async def lose_the_first_answer(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            await route.fetch()  # the check-in is made...
            await route.abort("connectionreset")  # ...and its answer lost on the way back
        else:
            await route.continue_()

    await page.route("**/api/v1/me/check-ins", lose_the_first_answer)
    await page.click(BUTTON)
    await page.wait_for_selector(f'{CARD}[data-state="error"]')
    phone.console_errors[:] = [e for e in phone.console_errors if "ERR_CONNECTION_RESET" not in e]
    await page.click(BUTTON)
    await page.wait_for_selector(f'{CARD}[data-state="done"]')
    assert keys[0] == keys[1]
    assert "签到成功" in await page.inner_text("[data-check-in-status]")
    assert "已连续签到 2 天" in await page.inner_text("[data-streak-line]")
    pool = factory.services.pool
    assert await pool.fetchval("SELECT count(*) FROM check_ins WHERE member_id = $1",
                               member.id) == 2


async def test_without_javascript_the_button_is_a_form(
        chromium: object, live_server: str, factory: Factory, clock: FrozenClock,
        app: object) -> None:
    _, member = await _member_on_a_streak(factory, clock, days=3)
    phone = await open_phone(chromium, live_server, java_script_enabled=False)
    try:
        page: Any = phone.page
        await page.goto(f"/m/enter?token={member.token}")
        await page.click(BUTTON)
        await page.wait_for_url("**/m?check_in=done#check-in")
        assert await page.get_attribute(CARD, "data-state") == "done"
        assert "签到成功！获得 5 积分" in await page.inner_text("[data-check-in-status]")
        assert "已连续签到 4 天" in await page.inner_text("[data-streak-line]")
        assert await page.is_disabled(BUTTON)
        await page.locator(CARD).scroll_into_view_if_needed()
        await phone.screenshot("checkin-nojs")
        phone.assert_clean()
    finally:
        await phone.context.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_a_360_phone_in_both_languages(chromium: object, live_server: str,
                                             factory: Factory, clock: FrozenClock,
                                             app: object, lang: str) -> None:
    shop, member = await _member_on_a_streak(factory, clock, days=6)
    # A day whose reward is both points and draws, and big numbers, must still fit.
    await set_check_in(factory.client, shop, [*WEEK[:4], {"day": 5, "points": 1000},
                                              {"day": 6, "points": 99999, "draws": 3},
                                              {"day": 7, "points": 1_000_000, "draws": 100}])
    name = "checkin-360" if lang == "zh-CN" else "checkin-360-en"
    phone = await open_phone(chromium, live_server, viewport={"width": 360, "height": 780})
    try:
        page: Any = phone.page
        await page.goto(f"/m/enter?token={member.token}")
        await page.goto(f"/m?lang={lang}")
        await page.wait_for_selector(f'{CARD}[data-state="ready"]')
        await _fits(page, 360)
        if lang == "en":
            assert (await page.inner_text("#check-in-title")).strip() == "Daily check-in"
            assert "6-day streak" in await page.inner_text("[data-streak-line]")
            assert (await page.inner_text("[data-today-reward]")).strip() \
                == "1000000 points + 100 draws"
            assert (await page.inner_text("[data-next-reward]")).strip() == "5 points"
            assert (await page.inner_text(BUTTON)).strip() == "Check in"
        else:
            assert (await page.inner_text("[data-today-reward]")).strip() \
                == "1000000 积分 + 100 次抽奖"
        await page.locator(CARD).scroll_into_view_if_needed()
        await phone.screenshot(name)
        await page.click(BUTTON)
        await page.wait_for_selector(f'{CARD}[data-state="done"]')
        await _fits(page, 360)
        done = "Checked in! You got 1000000 points + 100 draws" if lang == "en" \
            else "签到成功！获得 1000000 积分 + 100 次抽奖"
        assert done in await page.inner_text("[data-check-in-status]")
        await phone.screenshot(f"{name}-done")
        phone.assert_clean()
    finally:
        await phone.context.close()  # type: ignore[attr-defined]
