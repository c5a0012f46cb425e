"""Earned chances: extra draws beyond the limits, granted per check-in, per order and per
friend who joins, spent once each however many draws arrive at once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from engagement.kit.state import Services
from games.chances import service as chances
from tests.factories import Factory, MemberHandle, MerchantHandle
from tests.loyalty.checkin_helpers import check_in, set_check_in
from tests.referrals.helpers import join, order, program, share_code

PRIZES = [{"name": "积分", "kind": "points", "points": 5, "quantity": None, "weight": 1},
          {"kind": "nothing", "weight": 1}]


async def _campaign(factory: Factory, shop: MerchantHandle, **chances: int) -> dict[str, Any]:
    return await factory.campaign(shop, PRIZES, limits={"per_member_per_day": 1},
                                  chances=chances)


async def _burst(factory: Factory, member: MemberHandle, campaign_id: str,
                 n: int = 20) -> list[httpx.Response]:
    return await asyncio.gather(*[factory.draw(member, campaign_id) for _ in range(n)])


def _codes(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


async def test_a_check_in_gives_exactly_one_extra_draw_also_under_twenty_at_once(
        factory: Factory) -> None:
    shop = await factory.merchant()
    await set_check_in(factory.client, shop, [{"day": 1, "points": 1}])
    campaign = await _campaign(factory, shop, per_check_in=1)
    checked, other = await factory.member(shop), await factory.member(shop)
    assert (await check_in(factory.client, checked)).status_code == 201
    burst = await _burst(factory, checked, campaign["id"])
    assert _codes(burst) == [201, 201] + [409] * 18
    assert {r.json()["error"]["code"] for r in burst if r.status_code == 409} == {
        "draw_limit_reached"}
    made = [r.json() for r in burst if r.status_code == 201]
    assert sorted(d["extra"] for d in made) == [False, True]
    # The other member never checked in: the daily limit alone.
    assert _codes(await _burst(factory, other, campaign["id"])) == [201] + [409] * 19


async def test_remaining_counts_the_chances_and_the_first_free_draw_does_not_spend_one(
        factory: Factory) -> None:
    shop = await factory.merchant()
    await set_check_in(factory.client, shop, [{"day": 1, "points": 1, "draws": 1}])
    campaign = await _campaign(factory, shop, per_check_in=1)
    member = await factory.member(shop)
    await check_in(factory.client, member)  # per_check_in 1 + the program's 1 = 2
    bodies = [(await factory.draw(member, campaign["id"])).json() for _ in range(3)]
    assert [b["remaining"]["today"] for b in bodies] == [2, 1, 0]
    assert [b["extra"] for b in bodies] == [False, True, True]
    assert (await factory.draw(member, campaign["id"])).status_code == 409


async def test_an_order_grants_once_and_a_friend_joining_grants_the_sharer(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await program(factory, shop)
    campaign = await _campaign(factory, shop, per_order=2, per_invite=1)
    sharer = await factory.member(shop)
    r = await order(factory.client, shop, "ord_chance_1", sharer.id, 3000)
    assert r.status_code == 201, r.text
    again = await order(factory.client, shop, "ord_chance_1", sharer.id, 3000)  # a retry
    assert again.status_code in (200, 201)
    left = await chances.left(services.pool, campaign["id"], sharer.id)
    assert (left.total, left.by_source) == (2, {"order": 2})
    await join(factory, shop, await share_code(factory, sharer))
    left = await chances.left(services.pool, campaign["id"], sharer.id)
    assert (left.total, left.by_source) == (3, {"order": 2, "invite": 1})
    made = [await factory.draw(sharer, campaign["id"]) for _ in range(5)]
    assert [r.status_code for r in made] == [201, 201, 201, 201, 409]
    # Spent oldest first: the order's two, then the invite's.
    left = await chances.left(services.pool, campaign["id"], sharer.id)
    assert (left.total, left.by_source) == (0, {})


async def test_campaigns_without_chances_and_ended_ones_grant_nothing(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    plain = await factory.campaign(shop, PRIZES, limits={"per_member_per_day": 1})
    ended = await _campaign(factory, shop, per_order=1)
    r = await factory.client.post(f"/api/v1/campaigns/{ended['id']}/end", headers=shop.headers)
    assert r.status_code == 200
    member = await factory.member(shop)
    assert (await order(factory.client, shop, "ord_chance_2", member.id, 100)).status_code == 201
    assert await services.pool.fetchval("SELECT count(*) FROM draw_chances") == 0
    assert _codes(await _burst(factory, member, plain["id"], 3)) == [201, 409, 409]


async def test_a_spent_chance_stays_spent_after_redis_loses_its_data(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    campaign = await _campaign(factory, shop, per_order=1)
    member = await factory.member(shop)
    await order(factory.client, shop, "ord_chance_3", member.id, 100)
    assert _codes([await factory.draw(member, campaign["id"]) for _ in range(2)]) == [201, 201]
    await services.redis.flushdb()
    assert (await factory.draw(member, campaign["id"])).status_code == 409


async def test_a_live_campaigns_limits_and_chances_are_frozen_but_a_drafts_are_not(
        factory: Factory) -> None:
    shop = await factory.merchant()
    draft = await factory.campaign(shop, PRIZES, publish=False)
    url = f"/api/v1/campaigns/{draft['id']}"
    r = await factory.client.patch(url, headers=shop.headers, json={
        "limits": {"per_member_per_day": 3}, "chances": {"per_check_in": 2}})
    assert r.status_code == 200, r.text
    assert r.json()["limits"]["per_member_per_day"] == 3
    assert r.json()["chances"] == {"per_order": None, "per_check_in": 2, "per_invite": None}
    await factory.client.post(f"{url}/publish", headers=shop.headers)
    for change in ({"limits": {"per_member_per_day": 4}}, {"chances": {"per_check_in": 3}},
                   {"chances": {}}):
        r = await factory.client.patch(url, headers=shop.headers, json=change)
        assert r.status_code == 409, change
        assert r.json()["error"]["code"] == "campaign_live_locked"
    # The same values again change nothing and are not refused.
    r = await factory.client.patch(url, headers=shop.headers, json={
        "limits": {"per_member_per_day": 3}, "chances": {"per_check_in": 2}})
    assert r.status_code == 200
    bad = await factory.client.patch(url, headers=shop.headers,
                                     json={"chances": {"per_order": 0}})
    assert bad.status_code == 422


async def test_the_game_page_says_how_many_draws_are_left_and_where_they_came_from(
        factory: Factory) -> None:
    shop = await factory.merchant()
    await set_check_in(factory.client, shop, [{"day": 1, "points": 1}])
    campaign = await _campaign(factory, shop, per_check_in=1)
    member = await factory.member(shop)
    await check_in(factory.client, member)
    client = factory.client
    r = await client.get(f"/m/enter?token={member.token}&next=/play/{campaign['id']}")
    assert r.status_code in (302, 303)
    page = (await client.get(f"/play/{campaign['id']}")).text
    assert "今日还可参与 2 次" in page and "，含签到奖励 1 次" in page
    assert "每次签到多 1 次（在每日次数之外，活动期间有效）" in page  # the rules say it
    await factory.draw(member, campaign["id"])
    await factory.draw(member, campaign["id"])
    page = (await client.get(f"/play/{campaign['id']}")).text
    assert "含签到奖励" not in page and "今天的抽奖次数用完了" in page


async def test_a_held_join_grants_the_sharer_only_once_approved(
        factory: Factory, services: Services) -> None:
    from engagement.kit.db import transaction
    from engagement.members import service as members
    from engagement.members.schemas import MemberCreate
    from referrals import binding

    shop = await factory.merchant()
    await program(factory, shop, max_joins_per_ip_per_hour=1)
    campaign = await _campaign(factory, shop, per_invite=1)
    sharer = await factory.member(shop)
    code = await share_code(factory, sharer)
    joined = []
    for phone in ("13900000000", "13900000001", "13900000002"):
        async with transaction(services.pool) as conn:
            data = MemberCreate(external_id=f"phone:{phone}", phone=phone, share_code=code)
            friend, _ = await members.create_or_get_member(conn, shop.id, data)
            bound = await binding.bind_on_join(conn, merchant_id=shop.id, member_id=friend.id,
                                               share_code=code, now=services.clock.now(),
                                               ip="203.0.113.7")
        assert bound is not None
        joined.append((friend.id, bound.status))
    assert [status for _, status in joined] == ["active", "held", "held"]
    assert (await chances.left(services.pool, campaign["id"], sharer.id)).total == 1
    for verdict, (friend_id, _) in zip(("approve", "reject"), joined[1:], strict=True):
        r = await factory.client.post(f"/api/v1/referral-bindings/{friend_id}/{verdict}",
                                      headers=shop.headers)
        assert r.status_code == 200, r.text
    left = await chances.left(services.pool, campaign["id"], sharer.id)
    assert left.by_source == {"invite": 2}  # the active join's and the approved one's
