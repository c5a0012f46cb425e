"""积分明细 (/m/points): the balance, the history with reasons in words, and what expires
in the next 30 days, computed by the expiry job's own rule (spending uses the soonest
credits first), so the number shown is what the job then takes."""

from __future__ import annotations

import re

import httpx

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from engagement.points import tasks
from tests.factories import Factory
from tests.loyalty.helpers import adjust, pay, set_program

HTML = {"Accept": "text/html"}


def _expiring(page: str) -> int:
    found = re.search(r'data-expiring="(\d+)"', page)
    assert found
    return int(found.group(1))


async def test_history_in_words_and_the_points_about_to_expire(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    shop = await factory.merchant()
    await set_program(client, shop, expiry_days=40)  # 1 point per ¥1
    member = await factory.member(shop)
    assert (await client.get("/m/points", headers=HTML)).status_code == 401
    assert (await client.get(f"/m/enter?token={member.token}")).status_code == 303
    empty = (await client.get("/m/points", headers=HTML)).text
    assert "data-empty" in empty and "还没有积分记录" in empty
    assert _expiring(empty) == 0 and "30 天内没有积分过期。" in empty

    await pay(client, member, "o-1", 10_000)  # 100 points, expire 2027-01-02
    clock.advance(days=20)  # 2026-12-13
    await pay(client, member, "o-2", 5_000)  # 50 points, expire 2027-01-22: after the 30 days
    assert (await adjust(client, member, -30, reason="补录错单")).status_code == 201
    page = (await client.get("/m/points", headers=HTML)).text
    assert 'data-balance="120"' in page
    # Spending takes the soonest credits first: 70 of the first 100 are left to expire.
    assert _expiring(page) == 70
    assert 'data-expiring-day="2027-01-02" data-expiring-points="70"' in page
    assert "30 天内将有 <strong>70 积分</strong>过期" in page
    words = re.findall(r'<li class="points-entry[^>]*data-reason="([^"]+)" data-delta="(-?\d+)"',
                       page)
    assert words == [("补录错单", "-30"), ("order", "50"), ("order", "100")]
    assert page.count("消费获得") == 2 and "商家调整" in page and "补录错单" in page
    # A refund takes back half of the first order's points: they come off what expires.
    r = await client.post("/api/v1/orders/o-1/refunds", json={"amount": 5_000},
                          headers=shop.headers)
    assert r.status_code == 201
    page = (await client.get("/m/points", headers=HTML)).text
    assert "退款扣回" in page and _expiring(page) == 20
    # When the day comes, the job takes what the page said, no more.
    clock.advance(days=21)  # 2027-01-03
    assert await tasks.expire_due({"services": services}) == 20
    token = await client.post(f"/api/v1/members/{member.id}/tokens", headers=shop.headers)
    assert (await client.get(f"/m/enter?token={token.json()['token']}")).status_code == 303
    page = (await client.get("/m/points", headers=HTML)).text
    assert 'data-balance="50"' in page and "积分过期" in page
    # The last 50 now fall inside the 30 days.
    assert _expiring(page) == 50
    english = (await client.get("/m/points?lang=en", headers=HTML)).text
    assert "50 points</strong> expire in the next 30 days" in english
    assert "Purchase" in english and "Adjusted by the shop" in english


async def test_older_entries_are_a_page_away(client: httpx.AsyncClient, factory: Factory,
                                              services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    for n in range(31):
        assert (await adjust(client, member, n + 1, reason=f"第{n + 1}笔")).status_code == 201
    assert (await client.get(f"/m/enter?token={member.token}")).status_code == 303
    first = (await client.get("/m/points", headers=HTML)).text
    assert first.count('class="points-entry ') == 30
    older = re.search(r'href="(/m/points\?cursor=[^"]+)"', first)
    assert older is not None
    second = (await client.get(older.group(1), headers=HTML)).text
    assert second.count('class="points-entry ') == 1 and 'data-delta="1"' in second
    bad = await client.get("/m/points?cursor=%27--", headers=HTML)
    assert bad.status_code == 422
