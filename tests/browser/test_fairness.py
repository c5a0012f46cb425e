"""Provably fair draws on a phone (390x844): the game page shows the commitment from the
start and sends a fresh client seed with each draw; after the end, /play/{id}/verify
recomputes every draw in the browser with Web Crypto and marks each one, and a draw whose
record was altered is marked as not matching. Screenshots go to tests/screenshots/."""

from __future__ import annotations

import json
import re
from typing import Any

from engagement.kit.state import Services
from tests.browser.conftest import Phone
from tests.factories import Factory

RESULT = "#result[data-outcome]"


async def test_a_member_plays_then_verifies_every_draw_after_the_end(
        phone: Phone, factory: Factory, services: Services) -> None:
    shop = await factory.merchant("拾光咖啡 Shiguang Café")
    tpl = await factory.template(shop, name="满30减5元券", stock=100, min_spend=3000,
                                 discount={"type": "amount_off", "amount": 500})
    campaign = await factory.campaign(shop, [
        {"name": "5元券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 50,
         "weight": 3},
        {"name": "20积分", "kind": "points", "points": 20, "quantity": None, "weight": 3},
        {"name": "谢谢参与", "kind": "nothing", "weight": 4}],
        name="幸运大转盘", limits={"per_member_per_day": 3},
        pity={"after": 5, "prize_index": 1})
    cid = campaign["id"]
    commitment = campaign["fairness"]["commitment"]
    member = await factory.member(shop)
    page: Any = phone.page
    sent: list[dict[str, Any]] = []
    page.on("request", lambda r: sent.append({"body": r.post_data, "headers": r.headers})
            if r.method == "POST" and r.url.endswith("/draws") else None)
    await page.goto(f"/m/enter?token={member.token}&next=/play/{cid}")
    await page.wait_for_function("window.Play !== undefined")
    assert (await page.inner_text("[data-commitment]")).strip() == commitment
    assert "连续 5 次未中奖，下一次必中「20积分」" in await page.inner_text("[data-rules-pity]")
    # The prize's name sits on one line ("20积分", never 20 / 积分).
    assert await page.eval_on_selector("[data-rules-pity] .keep",
                                       "el => el.getClientRects().length") == 1
    await page.locator("[data-fairness]").scroll_into_view_if_needed()
    await phone.screenshot("fairness-commitment")

    drawn = []
    for n in range(3):
        async with page.expect_response(lambda r: r.url.endswith("/draws")
                                        and r.request.method == "POST") as answer:
            await page.click('button[data-action="play"]')
        drawn.append(await (await answer.value).json())
        await page.wait_for_selector(RESULT, timeout=20_000)
        await page.click('[data-action="close"]' if n == 2 else '[data-action="again"]')
    seeds = [json.loads(s["body"])["client_seed"] for s in sent]
    assert len(set(seeds)) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", s) for s in seeds)
    for s, d in zip(sent, drawn, strict=True):
        assert d["fairness"] == {"client_seed": json.loads(s["body"])["client_seed"],
                                 "nonce": s["headers"]["idempotency-key"]}

    # Before the end: the draws are listed, the seed is not yet public.
    await page.goto(f"/play/{cid}/verify")
    assert await page.get_attribute(".verify-status", "data-verify-state") == "waiting"
    assert await page.locator("[data-draw-id]").count() == 3
    await phone.screenshot("fairness-verify-waiting")

    r = await factory.client.post(f"/api/v1/campaigns/{cid}/end", headers=shop.headers)
    assert r.status_code == 200
    await page.reload()
    await page.wait_for_selector('[data-verify-status][data-verify-state^="done"]')
    assert await page.get_attribute("[data-verify-status]", "data-verify-state") == "done"
    states = await page.eval_on_selector_all(
        "[data-draw-id]", "rows => rows.map(r => r.getAttribute('data-verdict-state'))")
    assert states == ["verified"] * 3
    assert "3 次抽奖全部核对一致" in await page.inner_text("[data-verify-status]")
    assert await page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    await phone.screenshot("fairness-verify-done")

    # A record changed after the fact (another prize than the one the pick gave): the page
    # says so, for that draw only.
    other = next(p for p in campaign["prizes"]
                 if p["kind"] != "nothing" and p["id"] != drawn[1]["segment_id"])
    await services.pool.execute(
        """UPDATE draws SET response = response || $2::jsonb WHERE id = $1""", drawn[1]["id"],
        {"outcome": "win", "segment_id": other["id"],
         "prize": {"id": other["id"], "name": other["name"], "kind": other["kind"]}})
    await page.reload()
    await page.wait_for_selector('[data-verify-status][data-verify-state^="done"]')
    assert await page.get_attribute("[data-verify-status]", "data-verify-state") == "done-bad"
    altered = page.locator(f'[data-draw-id="{drawn[1]["id"]}"]')
    assert await altered.get_attribute("data-verdict-state") == "mismatch"
    for other in (drawn[0], drawn[2]):
        row = page.locator(f'[data-draw-id="{other["id"]}"]')
        assert await row.get_attribute("data-verdict-state") == "verified"
    await phone.screenshot("fairness-verify-mismatch")

    await page.goto(f"/play/{cid}/verify?lang=en")
    await page.wait_for_selector('[data-verify-status][data-verify-state^="done"]')
    assert "Check my draws" in await page.inner_text("h1")
    await phone.screenshot("fairness-verify-en")
    phone.assert_clean()


async def test_the_verify_page_for_a_visitor_and_for_a_member_with_no_draws(
        phone: Phone, factory: Factory) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [{"name": "谢谢参与", "kind": "nothing",
                                              "weight": 1}])
    page: Any = phone.page
    await page.goto(f"/play/{campaign['id']}/verify")
    assert await page.get_attribute(".empty", "data-verify-state") == "visitor"
    await phone.screenshot("fairness-verify-visitor")
    member = await factory.member(shop)
    await page.goto(f"/m/enter?token={member.token}&next=/play/{campaign['id']}/verify")
    assert await page.get_attribute(".empty", "data-verify-state") == "empty"
    await phone.screenshot("fairness-verify-empty")
    phone.assert_clean()
