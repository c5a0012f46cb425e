"""The points mall's page (/m/mall): rewards with price, stock and the member's balance,
its empty state, the confirmation sheet and its form without JavaScript; and redemptions
by one member with points for one, ten at once, through the API and the form."""

from __future__ import annotations

import asyncio
import re

import httpx

from engagement.kit.state import Services
from tests.console.helpers import csrf_token
from tests.factories import Factory, MemberHandle
from tests.loyalty.helpers import adjust
from tests.loyalty.test_mall import _redeem, _reward

HTML = {"Accept": "text/html"}


async def _sign_in(client: httpx.AsyncClient, member: MemberHandle) -> None:
    assert (await client.get(f"/m/enter?token={member.token}")).status_code == 303


def _key(page: str) -> str:
    found = re.search(r'name="key" value="([0-9a-f]{32})"', page)
    assert found, "the sheet's form carries a key"
    return found.group(1)


async def test_ten_redemptions_at_once_with_points_for_one_give_exactly_one(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    reward = await _reward(client, factory, shop, cost=100, stock=10)
    member = await factory.member(shop)
    assert (await adjust(client, member, 150)).status_code == 201
    results = await asyncio.gather(*(_redeem(client, member, reward["id"], key=f"tap-{i}")
                                     for i in range(10)))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [409] * 9
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {
        "insufficient_points"}
    pool = services.pool
    assert await pool.fetchval("SELECT points FROM members WHERE id = $1", member.id) == 50
    assert await pool.fetchval("SELECT redeemed FROM rewards") == 1
    assert await pool.fetchval("SELECT count(*) FROM coupons WHERE source = 'mall'") == 1
    assert await pool.fetchval(
        "SELECT sum(delta) FROM points_ledger WHERE member_id = $1", member.id) == 50


async def test_the_mall_page_lists_rewards_and_redeems_through_its_sheet(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    assert (await client.get("/m/mall", headers=HTML)).status_code == 401  # signed out
    await _sign_in(client, member)
    empty = (await client.get("/m/mall", headers=HTML)).text
    assert "data-empty" in empty and "商家还没有上架可兑换的礼品" in empty
    cheap = await _reward(client, factory, shop, cost=300, stock=2)
    dear = await _reward(client, factory, shop, cost=5000, stock=5)
    gone = await _reward(client, factory, shop, cost=10, stock=1)
    other = await factory.member(shop)
    await adjust(client, other, 10)
    assert (await _redeem(client, other, gone["id"], key="k")).status_code == 201
    await adjust(client, member, 1000)
    page = (await client.get("/m/mall", headers=HTML)).text
    assert 'data-balance="1000"' in page
    assert page.count("data-reward ") == 3
    assert "剩 2 件" in page and "已兑完" in page and "还差 4000 积分" in page
    assert page.count('data-action="redeem"') == 1  # only the one the member can afford
    assert f'href="/m/mall?confirm={cheap["id"]}#sheet"' in page
    # The sheet without JavaScript: asks, then redeems once whatever the taps.
    sheet = (await client.get(f"/m/mall?confirm={cheap['id']}", headers=HTML)).text
    assert "用 300 积分兑换 满500减50？" in sheet and "兑换后剩余 700 积分" in sheet
    form = {"csrf_token": csrf_token(sheet), "reward_id": cheap["id"], "key": _key(sheet)}
    posts = await asyncio.gather(*(client.post("/m/mall/redeem", data=form, headers=HTML)
                                   for _ in range(3)))
    locations = {r.headers["location"] for r in posts}
    assert len(locations) == 1 and all(r.status_code == 303 for r in posts)
    done = (await client.get(locations.pop(), headers=HTML)).text
    assert "兑换成功" in done and "已用 300 积分兑换" in done
    code = re.search(r'data-coupon-code="([^"]+)"', done)
    assert code is not None
    mine = (await client.get("/api/v1/me/coupons", headers=member.headers)).json()["items"]
    assert [c["code"] for c in mine] == [code.group(1)]
    assert await services.pool.fetchval("SELECT points FROM members WHERE id = $1",
                                        member.id) == 700
    # Refusals come back to the sheet in words, and take nothing.
    forged = await client.post("/m/mall/redeem", data={**form, "key": "not-a-key"},
                               headers=HTML)
    assert "refused=csrf_failed" in forged.headers["location"]
    short = await client.post("/m/mall/redeem", data={**form, "reward_id": dear["id"],
                                                      "key": "a" * 32}, headers=HTML)
    assert "refused=insufficient_points" in short.headers["location"]
    told = (await client.get(short.headers["location"], headers=HTML)).text
    assert "积分不足，兑换这件需要 5000 积分。" in told
    out = await client.post("/m/mall/redeem", data={**form, "reward_id": gone["id"],
                                                    "key": "b" * 32}, headers=HTML)
    told = (await client.get(out.headers["location"], headers=HTML)).text
    assert "手慢了，这件已经兑完了" in told
    assert await services.pool.fetchval("SELECT points FROM members WHERE id = $1",
                                        member.id) == 700
    # A redemption of another member is not shown.
    theirs = await services.pool.fetchval(
        "SELECT id FROM reward_redemptions WHERE member_id = $1", other.id)
    assert "兑换成功" not in (await client.get(f"/m/mall?redeemed={theirs}",
                                                headers=HTML)).text
    english = (await client.get("/m/mall?lang=en", headers=HTML)).text
    assert "Points shop" in english and "4300 more points needed" in english
