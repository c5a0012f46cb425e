"""Members on a phone: join, play the three games to a result, find the coupons; the limit
message; the published odds. Screenshots of each game before and after a draw are saved
under tests/screenshots/ for people to look at."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlsplit

from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings
from tests.browser.conftest import Phone, open_phone
from tests.codes import RecordingSender
from tests.factories import Factory, MerchantHandle
from tests.worker import drain

RESULT = "#result[data-outcome]"


def _path(url: str) -> str:
    """play_url as the test app built it (its host is the in-process test app's)."""
    return urlsplit(url).path


async def _prize_pool(factory: Factory, shop: MerchantHandle) -> list[dict[str, Any]]:
    """Only prizes that always pay out, so that every draw ends with a coupon."""
    off = await factory.template(shop, name="满50减10元券", stock=500, min_spend=5000,
                                 discount={"type": "amount_off", "amount": 1000})
    drink = await factory.template(shop, name="任意饮品8折券", stock=500,
                                   discount={"type": "percent_off", "percent": 20})
    gift = await factory.template(shop, name="招牌蛋挞一个", stock=500,
                                  discount={"type": "gift", "description": "到店免费领取"})
    return [
        {"name": "10元代金券", "kind": "coupon", "coupon_template_id": off["id"],
         "quantity": 100, "weight": 5},
        {"name": "饮品8折券", "kind": "coupon", "coupon_template_id": drink["id"],
         "quantity": 100, "weight": 3},
        {"name": "免费蛋挞", "kind": "coupon", "coupon_template_id": gift["id"],
         "quantity": 100, "weight": 2},
    ]


async def _join(phone: Phone, number: str) -> None:
    page: Any = phone.page
    await page.fill('input[name="phone"]', number)
    await page.click('[data-action="send-code"]')
    await page.wait_for_selector("[data-notice]:not([hidden])")
    code = RecordingSender.sent[number]
    await page.fill('input[name="code"]', code)
    await page.click('[data-action="join"]')


async def _scratch(phone: Phone) -> None:
    """Scratch the card with a finger-like drag, row by row, until it gives way."""
    page: Any = phone.page
    box = await page.locator("[data-scratch-canvas]").bounding_box()
    for row in range(1, 9):
        if await page.locator("[data-scratch-canvas].is-revealed").count():
            return
        y = box["y"] + box["height"] * row / 9
        await page.mouse.move(box["x"] + 6, y)
        await page.mouse.down()
        for step in range(1, 13):
            await page.mouse.move(box["x"] + box["width"] * step / 12 - 6, y)
        await page.mouse.up()


async def test_a_new_visitor_joins_plays_each_game_and_finds_the_coupons(
        phone: Phone, factory: Factory, settings: Settings, clock: FrozenClock) -> None:
    shop = await factory.merchant("拾光咖啡 Shiguang Café")
    prizes = await _prize_pool(factory, shop)
    games = {game: await factory.campaign(
        shop, prizes, name=name, game=game, limits={"per_member_per_day": 3},
        rules="1. 每人每天可参与 3 次。\n2. 优惠券自领取之日起 30 天内有效。")
        for game, name in [("wheel", "双十二幸运大转盘"), ("scratch", "周末刮刮乐"),
                           ("egg", "开业砸金蛋")]}
    page: Any = phone.page

    # A visitor opens the wheel's play_url: the game and its odds, and a way to join.
    await page.goto(_path(games["wheel"]["play_url"]))
    await phone.screenshot("wheel-visitor")
    await page.click('[data-action="play"]')
    await page.wait_for_url("**/j/**")
    await phone.screenshot("join")
    await _join(phone, "13912345678")
    await page.wait_for_url(f"**/play/{games['wheel']['id']}")

    # Wheel: a double tap draws once; the wheel lands on the server's result.
    await page.wait_for_function("window.Play !== undefined")
    await phone.screenshot("wheel-before")
    await page.locator('button[data-action="play"]').dblclick()
    await page.wait_for_selector(RESULT, timeout=20_000)
    await page.wait_for_timeout(400)
    await phone.screenshot("wheel-after")
    assert await page.get_attribute("#result", "data-outcome") == "win"
    stats = (await factory.client.get(f"/api/v1/campaigns/{games['wheel']['id']}/stats",
                                      headers=shop.headers)).json()
    assert stats["draws"] == 1
    assert "今日还可参与 2 次" in await page.inner_text("[data-remaining]")
    # The odds table's remaining column follows the win at once, as a reload would show.
    won = [p for p, n in stats["wins"].items() if n == 1]
    assert len(won) == 1
    cell = page.locator(f'[data-odds] [data-prize-id="{won[0]}"] [data-prize-remaining]')
    assert (await cell.inner_text()).strip() == "99"

    # The result sheet is modal: Tab and Shift+Tab stay on its controls, the page behind
    # it is inert; Escape closes it and the page comes back.
    focused = "document.activeElement.closest('#result') !== null"
    for key in ["Tab"] * 5 + ["Shift+Tab"] * 5:
        await page.keyboard.press(key)
        assert await page.evaluate(focused), key
    assert await page.evaluate("document.querySelector('.stage').inert")
    await page.keyboard.press("Escape")
    assert not await page.evaluate("document.querySelector('.stage').inert")
    assert await page.locator("[data-sheet]").is_hidden()

    # Scratch card: scratched with a finger until the result shows.
    await page.goto(_path(games["scratch"]["play_url"]))
    await phone.screenshot("scratch-before")
    await page.click('button[data-action="play"]')
    await page.wait_for_selector('[data-action="reveal"]:not([hidden])')
    await _scratch(phone)
    await page.wait_for_selector(RESULT, timeout=10_000)
    await page.wait_for_timeout(400)
    await phone.screenshot("scratch-after")
    assert await page.get_attribute("#result", "data-outcome") == "win"
    # A finger rubbing on past the result stays on the ticket: the ticket owns its touch
    # gestures (no pan, no swipe back through history), and the page never overscrolls
    # sideways.
    await page.keyboard.press("Escape")
    owner = await page.evaluate("""() => {
        const r = document.querySelector('[data-scratch-canvas]').getBoundingClientRect();
        const el = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        const ticket = el && el.closest('.scratch-ticket');
        return [ticket && getComputedStyle(ticket).touchAction,
                getComputedStyle(document.documentElement).overscrollBehaviorX];
    }""")
    assert owner == ["none", "none"]

    # Egg: tap an egg; it cracks open on the result.
    await page.goto(_path(games["egg"]["play_url"]))
    await phone.screenshot("egg-before")
    await page.locator('button[data-egg="1"]').tap()
    await page.wait_for_selector(RESULT, timeout=10_000)
    await page.wait_for_timeout(300)
    await phone.screenshot("egg-after")
    assert await page.get_attribute("#result", "data-outcome") == "win"
    prize_name = await page.inner_text("[data-result-prize]")

    # The coupons are settled by a worker, then listed under my coupons with a QR code.
    await drain(settings, clock)
    await page.click("[data-result-coupons]")
    await page.wait_for_url("**/m#coupons")
    coupons = page.locator("[data-coupon]")
    assert await coupons.count() == 3
    assert prize_name in await page.inner_text("#draws")
    first = coupons.first
    code = await first.get_attribute("data-coupon-code")
    await first.locator("summary").click()
    assert await first.locator(".qr-box svg").is_visible()
    assert code and code in await first.inner_text()
    await first.scroll_into_view_if_needed()
    await phone.screenshot("home-coupons")
    await page.evaluate("window.scrollTo(0, 0)")
    await phone.screenshot("home")


async def test_a_member_at_the_limit_sees_the_limit_message(
        chromium: object, live_server: str, factory: Factory) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop)
    campaign = await factory.campaign(shop, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 50,
         "weight": 1},
        {"name": "谢谢参与", "kind": "nothing", "weight": 1}], limits={"per_member_per_day": 1})
    member = await factory.member(shop)
    token = member.token
    phone = await open_phone(chromium, live_server)
    try:
        page: Any = phone.page
        await page.goto(f"/m/enter?token={token}&next=/play/{campaign['id']}")
        await page.wait_for_function("window.Play !== undefined")
        # The member draws on another device meanwhile; this page still offers a draw.
        assert (await factory.draw(member, campaign["id"])).status_code == 201
        await page.click('button[data-action="play"]')
        notice = page.locator("[data-notice]")
        await notice.wait_for(state="visible")
        assert "今天的抽奖次数用完了" in await notice.inner_text()
        assert await page.locator('button[data-action="play"]').is_disabled()
        assert len(phone.draw_refusals) == 1  # the 409 the page turned into that message
        await phone.screenshot("wheel-limit")
        # Coming back later, the page says so before any tap.
        await page.reload()
        assert "今天的抽奖次数用完了" in await page.inner_text("[data-notice]")
        assert await page.locator('button[data-action="play"]').is_disabled()
        phone.assert_clean()
    finally:
        await phone.context.close()  # type: ignore[attr-defined]


async def test_the_odds_table_matches_the_campaign(phone: Phone, factory: Factory) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=20)
    campaign = await factory.campaign(shop, [
        {"name": "满50减10", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 20,
         "weight": 3},
        {"name": "88积分", "kind": "points", "points": 88, "quantity": None, "weight": 4},
        {"name": "谢谢参与", "kind": "nothing", "weight": 5}], game="scratch",
        limits={"per_member_per_day": 2, "per_member_total": 5})
    published = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}",
                                          headers=shop.headers)).json()
    page: Any = phone.page
    await page.goto(_path(campaign["play_url"]))
    rows = page.locator("[data-odds] [data-prize-id]")
    assert await rows.count() == len(published["prizes"])
    for i, prize in enumerate(published["prizes"]):
        row = rows.nth(i)
        assert await row.get_attribute("data-prize-id") == prize["id"]
        assert float(await row.get_attribute("data-probability") or "nan") == prize["probability"]
        text = await row.inner_text()
        assert prize["name"] in text
    assert "25%" in await rows.nth(0).inner_text()      # 3 / 12
    assert "41.67%" in await rows.nth(2).inner_text()   # 5 / 12
    assert "每人每天 2 次，活动期间共 5 次" in await page.inner_text(".rules")
    await page.locator("[data-odds]").scroll_into_view_if_needed()
    await phone.screenshot("odds")
    # The same page in English, remembered for the next page.
    await page.click('a[hreflang="en"]')
    assert "Prizes and odds" in await page.inner_text("#odds-title")
    await page.goto(_path(campaign["play_url"]))
    assert await page.get_attribute("html", "lang") == "en"
    await phone.screenshot("scratch-en")
    await page.set_viewport_size({"width": 1280, "height": 860})
    await phone.screenshot("scratch-en-desktop")


async def test_a_lost_answer_is_retried_without_drawing_twice(
        chromium: object, live_server: str, factory: Factory) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop)
    campaign = await factory.campaign(shop, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 50,
         "weight": 1}], limits={"per_member_per_day": 3})
    member = await factory.member(shop)
    phone = await open_phone(chromium, live_server, reduced_motion="reduce")
    try:
        page: Any = phone.page
        lost: list[str] = []

        async def lose_the_first_answer(route: Any) -> None:
            if lost:
                await route.continue_()
                return
            response = await route.fetch()  # the server draws...
            lost.append((await response.json())["id"])
            await route.abort()  # ...and the phone never hears back

        await page.route("**/api/v1/campaigns/*/draws", lose_the_first_answer)
        await page.goto(f"/m/enter?token={member.token}&next=/play/{campaign['id']}")
        await page.click('button[data-action="play"]')
        notice = page.locator("[data-notice]")
        await notice.wait_for(state="visible")
        assert "网络不太好" in await notice.inner_text()
        await page.click('button[data-action="play"]')
        await page.wait_for_selector(RESULT, timeout=10_000)
        draws = (await factory.client.get("/api/v1/me/draws", headers=member.headers)).json()
        assert [d["id"] for d in draws["items"]] == lost  # the retry replayed the lost draw
        assert len(phone.draw_refusals) == 1
        phone.assert_clean()
    finally:
        await phone.context.close()  # type: ignore[attr-defined]


async def test_wheel_labels_never_part_a_number_from_its_unit(
        phone: Phone, factory: Factory) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [
        {"name": "咖啡立减5元", "kind": "points", "points": 5, "quantity": None, "weight": 1},
        {"name": "谢谢参与", "kind": "nothing", "weight": 1}])
    page: Any = phone.page
    await page.goto(_path(campaign["play_url"]))
    await page.wait_for_function("window.CanvasGames !== undefined")
    # Cells narrow enough that each label needs two lines, as on a crowded wheel.
    lines = await page.evaluate("""() => ["咖啡立减5元", "满50减10元券", "饮品8.5折券",
        "谢谢参与，下次再来"].map(
            t => window.CanvasGames.label(t, 62, 60, [16]).text.split("\\n"))""")
    for label in lines:
        assert len(label) > 1, label
        for line in label[1:]:
            assert line[0] not in "元折券积，", label  # a unit or a comma never starts a line
        for before, after in itertools.pairwise(label):
            assert not (before[-1].isdigit() and after[0].isdigit()), label
