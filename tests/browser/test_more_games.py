"""九宫格, 老虎机 and 摇一摇 on a phone (390x844): each played to a result that is the
server's draw (the outcome and the prize shown); shaking the phone draws as the button
does, and where iOS asks for motion access a refusal leaves the button; the console's
builder offers the games and previews one in its phone frame on a tablet (820x1180).
Screenshots are saved under tests/screenshots/ for people to look at."""

from __future__ import annotations

from typing import Any

from engagement.kit.state import Services
from tests.browser.conftest import SCREENSHOTS, Phone, open_phone
from tests.browser.test_console import EMAIL, TABLET, _sign_in
from tests.console.helpers import add_user
from tests.factories import Factory, MerchantHandle

RESULT = "#result[data-outcome]"
DRAWS = "**/api/v1/campaigns/*/draws"


async def _prizes(factory: Factory, shop: MerchantHandle) -> list[dict[str, Any]]:
    off = await factory.template(shop, name="满50减10元券", stock=500, min_spend=5000,
                                 discount={"type": "amount_off", "amount": 1000})
    gift = await factory.template(shop, name="Signature egg tart", stock=500,
                                  discount={"type": "gift", "description": "到店免费领取"})
    return [
        {"name": "10元代金券", "kind": "coupon", "coupon_template_id": off["id"],
         "quantity": 100, "weight": 5},
        {"name": "Free Signature Egg Tart", "kind": "coupon", "coupon_template_id": gift["id"],
         "quantity": 100, "weight": 3},
        {"name": "88积分", "kind": "points", "points": 88, "quantity": None, "weight": 2},
        {"name": "谢谢参与", "kind": "nothing", "weight": 2},
    ]


async def _fits(page: Any) -> None:
    """No sideways scrolling, and the play button whole on screen."""
    assert await page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    box = await page.locator(".btn-play").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390


async def _draw_and_check(phone: Phone, start: Any, name: str) -> dict[str, Any]:
    """Start a draw with `start` (a coroutine function); the page ends on the server's answer."""
    page: Any = phone.page
    async with page.expect_response(lambda r: r.url.endswith("/draws")
                                    and r.request.method == "POST") as answer:
        await start()
    drawn = await (await answer.value).json()
    await page.wait_for_selector(RESULT, timeout=20_000)
    await page.wait_for_timeout(400)
    await phone.screenshot(f"{name}-after")
    assert await page.get_attribute("#result", "data-outcome") == drawn["outcome"]
    shown = (await page.inner_text("[data-result-prize]")).strip()
    assert shown == (drawn["prize"]["name"] if drawn["outcome"] == "win" else "")
    return dict(drawn)


async def test_a_member_plays_grid_slot_and_shake_to_the_servers_result(
        phone: Phone, factory: Factory) -> None:
    shop = await factory.merchant("拾光咖啡 Shiguang Café")
    prizes = await _prizes(factory, shop)
    games = {game: await factory.campaign(shop, prizes, name=name, game=game,
                                          limits={"per_member_per_day": 3})
             for game, name in [("grid", "幸运九宫格"), ("slot", "欢乐老虎机"),
                                ("shake", "摇一摇 赢好礼")]}
    member = await factory.member(shop)
    page: Any = phone.page
    await page.goto(f"/m/enter?token={member.token}&next=/play/{games['grid']['id']}")

    for game in games:
        if game != "grid":
            await page.goto(f"/play/{games[game]['id']}")
        await page.wait_for_function("window.Play !== undefined")
        await page.wait_for_timeout(300)  # lucky-canvas draws its cells
        await _fits(page)
        await phone.screenshot(f"{game}-before")
        button = page.locator('button[data-action="play"]')
        drawn = await _draw_and_check(phone, button.click, game)
        assert drawn["remaining"]["today"] == 2
        assert "今日还可参与 2 次" in await page.inner_text("[data-remaining]")
        # Again, from the sheet: the game is ready for a second draw.
        await page.click('[data-action="again"]')
        assert await page.locator("[data-sheet]").is_hidden()
        await _draw_and_check(phone, button.click, f"{game}-again")
        await page.click('[data-action="close"]')

    # The grid's own centre button starts a draw too (it sits on the canvas).
    await page.goto(f"/play/{games['grid']['id']}")
    await page.wait_for_function("window.Play !== undefined")
    await page.wait_for_timeout(300)
    box = await page.locator("#grid canvas").bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await _draw_and_check(phone, lambda: page.mouse.click(*centre), "grid-centre")
    await page.click('[data-action="close"]')
    assert await page.locator('button[data-action="play"]').is_disabled()  # 3 a day

    # The same pages in English: the labels wrap between words.
    await page.goto(f"/play/{games['slot']['id']}")
    await page.click('a[hreflang="en"]')
    await page.goto(f"/play/{games['grid']['id']}")
    await page.wait_for_timeout(400)
    assert "Prize grid" in await page.inner_text("#stage-title")
    await _fits(page)
    await phone.screenshot("grid-en")


_SHAKE = """async () => {
  const jolt = (x) => window.dispatchEvent(new DeviceMotionEvent("devicemotion", {
    accelerationIncludingGravity: {x: x, y: -x, z: 9.8}, interval: 16}));
  for (const x of [0, 20, -20, 20, -20, 0]) {
    jolt(x);
    await new Promise((done) => setTimeout(done, 40));
  }
}"""


async def test_shaking_the_phone_draws_without_a_tap(
        chromium: object, live_server: str, factory: Factory) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, await _prizes(factory, shop), game="shake",
                                      limits={"per_member_per_day": 2})
    member = await factory.member(shop)
    phone = await open_phone(chromium, live_server)
    try:
        page: Any = phone.page
        # Motion access is asked for (as on iOS, and in recent Chromium) and granted.
        await page.add_init_script("""window.DeviceMotionEvent.requestPermission =
            () => Promise.resolve("granted");""")
        await page.goto(f"/m/enter?token={member.token}&next=/play/{campaign['id']}")
        await page.wait_for_function("window.Play !== undefined")
        await page.click('[data-action="motion"]')
        await page.locator('[data-action="motion"]').wait_for(state="hidden")
        # A single bump is not a shake.
        await page.evaluate("""() => window.dispatchEvent(new DeviceMotionEvent("devicemotion",
            {accelerationIncludingGravity: {x: 0, y: 0, z: 9.8}}))""")
        await page.evaluate("""() => window.dispatchEvent(new DeviceMotionEvent("devicemotion",
            {accelerationIncludingGravity: {x: 20, y: -20, z: 9.8}}))""")
        await page.wait_for_timeout(300)
        assert await page.locator("[data-sheet]").is_hidden()
        assert "摇动手机即可抽奖" in await page.inner_text("[data-shake-hint]")
        drawn = await _draw_and_check(phone, lambda: page.evaluate(_SHAKE), "shake-motion")
        assert drawn["remaining"]["today"] == 1
        phone.assert_clean()
    finally:
        await phone.context.close()  # type: ignore[attr-defined]


async def test_refused_motion_access_leaves_the_button(
        chromium: object, live_server: str, factory: Factory) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, await _prizes(factory, shop), game="shake")
    member = await factory.member(shop)
    phone = await open_phone(chromium, live_server)
    try:
        page: Any = phone.page
        # Motion access is asked for, and refused.
        await page.add_init_script("""window.DeviceMotionEvent.requestPermission =
            () => { window.asked = true; return Promise.resolve("denied"); };""")
        await page.goto(f"/m/enter?token={member.token}&next=/play/{campaign['id']}")
        await page.wait_for_function("window.Play !== undefined")
        ask = page.locator('[data-action="motion"]')
        assert await ask.is_visible()
        assert "开启摇一摇后" in await page.inner_text("[data-shake-hint]")
        await phone.screenshot("shake-ask")
        await ask.click()
        await page.wait_for_function("window.asked === true")
        assert "没有动作权限" in await page.inner_text("[data-shake-hint]")
        assert await ask.is_hidden()
        await _draw_and_check(phone, page.locator('button[data-action="play"]').click,
                              "shake-denied")
        phone.assert_clean()
    finally:
        await phone.context.close()  # type: ignore[attr-defined]


async def test_the_builder_offers_the_new_games_and_previews_one(
        chromium: object, live_server: str, factory: Factory, services: Services) -> None:
    shop = await factory.merchant("拾光咖啡")
    await add_user(services, shop, EMAIL)
    await factory.template(shop, name="满50减10元券", stock=200)
    tablet = await open_phone(chromium, live_server, **TABLET)
    try:
        page: Any = tablet.page
        await _sign_in(tablet, "/console/campaigns/new")
        await page.wait_for_selector("[data-prize-row='0']")
        games = page.locator('input[name="game"]')
        assert [await games.nth(i).get_attribute("value") for i in range(await games.count())] \
            == ["wheel", "scratch", "egg", "grid", "slot", "shake"]
        await page.fill('input[name="name"]', "幸运九宫格")
        await page.locator('label.game:has(input[value="grid"])').click()
        await page.locator("select[name='prize-0-template']").select_option(
            label="满50减10元券（可用 200 张）")
        await page.fill("input[name='prize-0-quantity']", "20")
        await page.locator(".games").scroll_into_view_if_needed()
        assert await page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        await tablet.screenshot("console-builder-games")
        await page.click('[data-action="save-campaign"]')
        await page.wait_for_selector("[data-odds]")
        frame = page.frame_locator("[data-preview]")
        await frame.locator("#grid canvas").wait_for()
        await frame.locator('[data-action="play"]').wait_for()
        await page.wait_for_timeout(600)
        assert await page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "console-draft-grid.png"), full_page=True)
        tablet.assert_clean()
    finally:
        await tablet.context.close()  # type: ignore[attr-defined]
