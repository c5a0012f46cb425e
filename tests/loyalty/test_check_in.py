"""Daily check-in (签到) over the API: once a day in the merchant's time zone, also under 50
simultaneous requests; the streak, its reset after a missed day, and the reward of each
streak day, the cycle starting again after the last listed day."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from tests.factories import Factory
from tests.loyalty.checkin_helpers import WEEK, check_in, check_in_status, set_check_in
from tests.loyalty.helpers import points, set_program


async def test_fifty_simultaneous_check_ins_give_one_and_credit_once(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await set_check_in(client, shop, [{"day": 1, "points": 10, "draws": 2}])
    member = await factory.member(shop)
    results = await asyncio.gather(*(check_in(client, member) for _ in range(50)))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [409] * 49
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} \
        == {"already_checked_in"}
    made = next(r.json() for r in results if r.status_code == 201)
    assert made["streak"] == 1
    assert made["reward"] == {"day": 1, "points": 10, "draws": 2}
    pool = services.pool
    assert await pool.fetchval("SELECT count(*) FROM check_ins") == 1
    entries = await pool.fetch("SELECT delta, reason, ref FROM points_ledger")
    assert [dict(e) for e in entries] == [
        {"delta": 10, "reason": "check_in", "ref": f"check_in:{made['id']}"}]
    assert (await points(client, member))["balance"] == 10


async def test_one_key_fired_twenty_times_replays_the_one_check_in(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await set_check_in(client, shop)
    member = await factory.member(shop)
    results = await asyncio.gather(*(check_in(client, member, key="tap-1")
                                     for _ in range(20)))
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    assert await services.pool.fetchval("SELECT count(*) FROM points_ledger") == 1
    # Another key the same day is a second check-in, refused.
    again = await check_in(client, member, key="tap-2")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_checked_in"


async def test_the_day_turns_at_midnight_in_the_merchants_time_zone(
        client: httpx.AsyncClient, factory: Factory, clock: FrozenClock) -> None:
    shanghai = await factory.merchant("拾光咖啡")  # Asia/Shanghai, UTC+8
    angeles = await factory.merchant("Sunset Café", time_zone="America/Los_Angeles")  # UTC-8
    for shop in (shanghai, angeles):
        await set_check_in(client, shop)
    in_shanghai, in_angeles = await factory.member(shanghai), await factory.member(angeles)

    clock.at = datetime(2026, 11, 23, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Shanghai
    first = (await check_in(client, in_shanghai)).json()
    assert first["date"] == "2026-11-23"
    assert (await check_in(client, in_shanghai)).status_code == 409
    clock.advance(seconds=1)  # 00:00 on the 24th in Shanghai, 08:00 on the 23rd in LA
    second = await check_in(client, in_shanghai)
    assert second.status_code == 201, second.text
    assert (second.json()["date"], second.json()["streak"]) == ("2026-11-24", 2)

    # In Los Angeles it is still the 23rd until 08:00 UTC on the 24th.
    clock.at = datetime(2026, 11, 24, 7, 59, 59, tzinfo=UTC)  # 23:59:59 on the 23rd in LA
    assert (await check_in(client, in_angeles)).json()["date"] == "2026-11-23"
    assert (await check_in(client, in_angeles)).status_code == 409
    clock.advance(seconds=1)
    turned = (await check_in(client, in_angeles)).json()
    assert (turned["date"], turned["streak"]) == ("2026-11-24", 2)
    status = await check_in_status(client, in_angeles)
    assert (status["today"], status["checked_in_today"], status["streak"]) \
        == ("2026-11-24", True, 2)


async def test_a_missed_day_starts_the_streak_again(
        client: httpx.AsyncClient, factory: Factory, clock: FrozenClock) -> None:
    shop = await factory.merchant()
    await set_check_in(client, shop)
    member = await factory.member(shop)
    streaks = []
    for day in (0, 1, 2, 4, 5):  # the fourth day is missed
        clock.at = datetime(2026, 11, 23 + day, 4, 0, tzinfo=UTC)
        r = await check_in(client, member)
        assert r.status_code == 201, r.text
        streaks.append(r.json()["streak"])
    assert streaks == [1, 2, 3, 1, 2]
    # Before today's check-in the status keeps yesterday's streak alive; a day later it is 0.
    clock.advance(days=1)
    assert (await check_in_status(client, member))["streak"] == 2
    clock.advance(days=1)
    gone = await check_in_status(client, member)
    assert (gone["streak"], gone["today_reward"]["day"]) == (0, 1)


async def test_rewards_follow_the_streak_day_and_the_cycle_starts_again(
        client: httpx.AsyncClient, factory: Factory, clock: FrozenClock,
        services: Services) -> None:
    shop = await factory.merchant()
    await set_check_in(client, shop, [{"day": 1, "points": 10},
                                      {"day": 3, "points": 30, "draws": 2},
                                      {"day": 2, "draws": 1}])  # any order; days 1..3
    member = await factory.member(shop)
    given = []
    for n in range(5):
        clock.at = datetime(2026, 11, 23 + n, 4, 0, tzinfo=UTC)
        body = (await check_in(client, member)).json()
        given.append((body["streak"], body["reward"]))
    assert given == [
        (1, {"day": 1, "points": 10, "draws": 0}), (2, {"day": 2, "points": 0, "draws": 1}),
        (3, {"day": 3, "points": 30, "draws": 2}),
        # After the last day the cycle starts again at day 1; the streak keeps counting.
        (4, {"day": 1, "points": 10, "draws": 0}), (5, {"day": 2, "points": 0, "draws": 1})]
    assert (await points(client, member))["balance"] == 10 + 30 + 10
    rows = await services.pool.fetch("SELECT streak, points, draws FROM check_ins ORDER BY day")
    assert [tuple(r) for r in rows] == [(1, 10, 0), (2, 0, 1), (3, 30, 2), (4, 10, 0),
                                        (5, 0, 1)]


async def test_the_status_gives_the_strip_today_and_the_next_reward(
        client: httpx.AsyncClient, factory: Factory, clock: FrozenClock) -> None:
    shop = await factory.merchant()
    await set_check_in(client, shop)
    member = await factory.member(shop)
    fresh = await check_in_status(client, member)
    assert (fresh["enabled"], fresh["checked_in_today"], fresh["streak"]) == (True, False, 0)
    assert fresh["today_reward"] == {"day": 1, "points": 5, "draws": 0}
    assert fresh["next_reward"] == {"day": 2, "points": 5, "draws": 0}
    assert [(d["day"], d["state"], d["checked_in"]) for d in fresh["strip"]] == \
        [(1, "today", False)] + [(n, "upcoming", False) for n in range(2, 8)]
    assert fresh["strip"][6] == {"date": "2026-11-29", "day": 7, "points": 20, "draws": 1,
                                 "state": "upcoming", "checked_in": False}
    for n in range(7):  # a whole week, then the 8th day is day 1 of a new cycle
        clock.at = datetime(2026, 11, 23 + n, 4, 0, tzinfo=UTC)
        assert (await check_in(client, member)).status_code == 201
    week = await check_in_status(client, member)
    assert (week["streak"], week["checked_in_today"]) == (7, True)
    assert [d["state"] for d in week["strip"]] == ["done"] * 6 + ["today"]
    assert all(d["checked_in"] for d in week["strip"])
    assert week["today_reward"]["day"] == 7 and week["next_reward"]["day"] == 1
    assert [c["streak"] for c in week["recent"]] == [7, 6, 5, 4, 3, 2, 1]
    clock.advance(days=1)
    eighth = await check_in_status(client, member)
    assert (eighth["streak"], eighth["today_reward"]["day"]) == (7, 1)
    assert [d["state"] for d in eighth["strip"]] == ["today"] + ["upcoming"] * 6


async def test_a_long_cycle_shows_seven_days_around_today(
        client: httpx.AsyncClient, factory: Factory, clock: FrozenClock) -> None:
    shop = await factory.merchant()
    await set_check_in(client, shop, [{"day": n, "points": n} for n in range(1, 31)])
    member = await factory.member(shop)
    for n in range(12):
        clock.at = datetime(2026, 11, 1 + n, 4, 0, tzinfo=UTC)
        assert (await check_in(client, member)).status_code == 201
    strip = (await check_in_status(client, member))["strip"]
    assert [d["day"] for d in strip] == list(range(9, 16))
    assert [d["state"] for d in strip] == ["done"] * 3 + ["today"] + ["upcoming"] * 3
    assert strip[3]["date"] == "2026-11-12"


async def test_check_in_points_expire_as_the_points_program_says(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await set_program(client, shop, expiry_days=30)
    await set_check_in(client, shop)
    member = await factory.member(shop)
    made = (await check_in(client, member)).json()
    [entry] = (await points(client, member))["items"]
    assert entry["reason"] == "check_in" and entry["delta"] == 5
    assert entry["expires_at"] == "2026-12-23T04:00:00Z"
    assert made["created_at"] == "2026-11-23T04:00:00Z"


async def test_a_program_that_is_off_refuses_check_ins(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    never = await check_in(client, member)
    assert never.status_code == 409 and never.json()["error"]["code"] == "check_in_disabled"
    await set_check_in(client, shop, enabled=False)
    off = await check_in(client, member)
    assert off.status_code == 409 and off.json()["error"]["code"] == "check_in_disabled"
    status = await check_in_status(client, member)
    assert (status["enabled"], status["today_reward"], status["strip"]) == (False, None, [])
    assert await services.pool.fetchval("SELECT count(*) FROM check_ins") == 0
    await set_check_in(client, shop)
    assert (await check_in(client, member)).status_code == 201


async def test_credentials_of_the_wrong_kind_or_merchant_are_refused(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop, rival = await factory.merchant("拾光咖啡"), await factory.merchant("隔壁奶茶")
    await set_check_in(client, shop)
    member, outsider = await factory.member(shop), await factory.member(rival)
    as_merchant = await client.post("/api/v1/me/check-ins", headers=shop.headers)
    assert as_merchant.status_code == 403
    assert (await client.get("/api/v1/me/check-ins", headers=shop.headers)).status_code == 403
    assert (await client.post("/api/v1/me/check-ins")).status_code == 401
    put = await client.put("/api/v1/check-in-program", headers=member.headers,
                           json={"enabled": True, "rewards": WEEK})
    assert put.status_code == 403
    assert (await client.get("/api/v1/check-in-program",
                             headers=member.headers)).status_code == 403
    # A member of another merchant checks in at that merchant only: it has no program.
    r = await check_in(client, outsider)
    assert r.status_code == 409 and r.json()["error"]["code"] == "check_in_disabled"
    # And the other merchant's key sees its own program, not this one.
    theirs = await client.get("/api/v1/check-in-program", headers=rival.headers)
    assert theirs.json() == {"enabled": False, "rewards": [], "updated_at": None}
    assert await services.pool.fetchval("SELECT count(*) FROM check_ins") == 0
    assert (await check_in(client, member)).status_code == 201
