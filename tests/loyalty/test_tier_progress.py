"""The tier progress on the member home, from real orders, refunds and points: 再消费 ¥120
升级银卡 for a tier on spend, 再得 20 积分升级金卡 for one on points, counted over each
tier's window like the daily evaluation; at the top tier it says so; nothing without tiers."""

from __future__ import annotations

import re

import httpx

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from engagement.loyalty.tiers import tasks
from tests.factories import Factory, MemberHandle
from tests.loyalty.helpers import adjust, pay, set_program

HTML = {"Accept": "text/html"}


async def _home(client: httpx.AsyncClient, member: MemberHandle) -> str:
    # A fresh entry each time: the clock moves past a token's 30 days in this test.
    token = await client.post(f"/api/v1/members/{member.id}/tokens",
                              headers=member.merchant.headers)
    assert (await client.get(f"/m/enter?token={token.json()['token']}")).status_code == 303
    page = await client.get("/m", headers=HTML)
    assert page.status_code == 200
    return page.text


def _line(page: str) -> str | None:
    found = re.search(r"data-tier-line>\s*(.*?)\s*</p>", page, re.S)
    return found.group(1) if found else None


async def test_progress_follows_orders_refunds_points_and_the_window(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    shop = await factory.merchant()
    await set_program(client, shop)  # 1 point per ¥1
    r = await client.put("/api/v1/tiers", json={"tiers": [
        {"name": "银卡", "min_spend": 50_000, "window_days": 30},
        {"name": "金卡", "min_points": 1000, "window_days": 365}]}, headers=shop.headers)
    assert r.status_code == 200, r.text
    member = await factory.member(shop)
    assert _line(await _home(client, member)) == "再消费 ¥500 升级银卡"
    await pay(client, member, "o-1", 38_000)
    page = await _home(client, member)
    assert _line(page) == "再消费 ¥120 升级银卡"
    assert 'data-unit="spend" data-gap="12000"' in page
    assert '<progress class="tier-progress-bar" max="50000" value="38000"' in page
    assert "近 30 天已消费 ¥380 / ¥500" in page
    # Spend counts net of refunds.
    refund = await client.post("/api/v1/orders/o-1/refunds", json={"amount": 5_000},
                               headers=shop.headers)
    assert refund.status_code == 201
    assert _line(await _home(client, member)) == "再消费 ¥170 升级银卡"
    # Orders older than the tier's window no longer count.
    clock.advance(days=31)
    assert _line(await _home(client, member)) == "再消费 ¥500 升级银卡"
    await pay(client, member, "o-2", 60_000)
    assert _line(await _home(client, member)) == "已达到银卡条件，一天内自动升级"
    await tasks.evaluate({"services": services})
    # Now silver; gold is on points earned over 365 days: 380 + 600 (a refund's take-back
    # is not earning, as the evaluation counts it).
    page = await _home(client, member)
    assert "<dd>银卡</dd>" in page
    assert _line(page) == "再得 20 积分升级金卡"
    assert "近 365 天已得 980 / 1000 积分" in page
    assert (await adjust(client, member, 20)).status_code == 201
    assert _line(await _home(client, member)) == "已达到金卡条件，一天内自动升级"
    await tasks.evaluate({"services": services})
    page = await _home(client, member)
    assert _line(page) == "你已是最高等级：金卡"
    english = (await client.get("/m?lang=en", headers=HTML)).text
    assert _line(english) == "You hold the top tier: 金卡"


async def test_english_numbers_and_no_tiers(client: httpx.AsyncClient,
                                            factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    page = await _home(client, member)
    assert "data-tier-progress" not in page  # no tiers: no progress, the shortcuts stay
    for shortcut in ("mall", "points", "profile"):
        assert f'data-shortcut="{shortcut}"' in page
    await client.put("/api/v1/tiers", json={"tiers": [
        {"name": "Gold", "min_points": 1, "window_days": 30}]}, headers=shop.headers)
    english = (await client.get("/m?lang=en", headers=HTML)).text
    assert _line(english) == "Earn 1 more point to reach Gold"
    await client.put("/api/v1/tiers", json={"tiers": [
        {"name": "Gold", "min_spend": 12_050, "window_days": 30}]}, headers=shop.headers)
    english = (await client.get("/m?lang=en", headers=HTML)).text
    assert _line(english) == "Spend ¥120.5 more to reach Gold"
