from __future__ import annotations

import time
from datetime import UTC, date, datetime

import httpx

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from engagement.loyalty.sends import tasks
from tests.factories import Factory, MemberHandle, MerchantHandle
from tests.loyalty.helpers import pay
from tests.worker import drain


async def _send(client: httpx.AsyncClient, merchant: MerchantHandle,
                **body: object) -> httpx.Response:
    return await client.post("/api/v1/sends", json=body, headers=merchant.headers)


async def _result(client: httpx.AsyncClient, merchant: MerchantHandle,
                  send_id: str) -> dict[str, object]:
    r = await client.get(f"/api/v1/sends/{send_id}", headers=merchant.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_bad_sends_are_refused_and_create_nothing(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    merchant = await factory.merchant()
    template = await factory.template(merchant)
    for body in ({"name": "x", "coupon_template_id": "tpl_nope"},
                 {"name": "x", "coupon_template_id": template["id"], "holdout_percent": 95},
                 {"name": "x", "coupon_template_id": template["id"],
                  "segment": {"orders_within_days": 30}},
                 {"name": "x", "coupon_template_id": template["id"],
                  "segment": {"birthday": "tomorrow"}}):
        assert (await _send(client, merchant, **body)).status_code == 422
    assert await services.pool.fetchval("SELECT count(*) FROM sends") == 0
    other = await factory.merchant("Other")
    r = await _send(client, merchant, name="x", coupon_template_id=template["id"])
    assert r.status_code == 202 and r.json()["status"] == "queued"
    assert (await client.get(f"/api/v1/sends/{r.json()['id']}",
                             headers=other.headers)).status_code == 404


async def test_win_back_send_with_holdout_and_measured_lift(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    merchant = await factory.merchant()
    template = await factory.template(merchant, name="满100减50", stock=1000)
    regulars = [await factory.member(merchant) for _ in range(10)]
    once = [await factory.member(merchant) for _ in range(3)]
    still_active = [await factory.member(merchant) for _ in range(3)]
    n = 0
    for member in regulars + still_active:
        for _ in range(3):
            n += 1
            await pay(client, member, f"o-{n}", 20_000)
    for member in once:
        n += 1
        await pay(client, member, f"o-{n}", 20_000)
    clock.advance(days=40)
    for member in still_active:
        n += 1
        await pay(client, member, f"o-{n}", 20_000)
    clock.advance(days=30)
    r = await _send(client, merchant, name="老客召回", coupon_template_id=template["id"],
                    segment={"min_orders": 3, "orders_within_days": 180, "inactive_days": 60},
                    holdout_percent=20)
    assert r.status_code == 202, r.text
    send_id = r.json()["id"]
    await drain(services.settings, clock)
    result = await _result(client, merchant, send_id)
    assert (result["status"], result["targeted"], result["held_out"], result["treated"],
            result["issued"]) == ("done", 10, 2, 8, 8)
    held = {row["member_id"] for row in await services.pool.fetch(
        "SELECT member_id FROM send_members WHERE send_id = $1 AND held_out", send_id)}
    treated = [m for m in regulars if m.id not in held]
    clock.advance(days=3)
    # Half the treated come back, one with the send's coupon; no one of the holdout does.
    for i, member in enumerate(treated[:4]):
        codes = []
        if i == 0:
            codes = [await services.pool.fetchval(  # the token has expired by now
                "SELECT code FROM coupons WHERE member_id = $1 AND source = 'send'",
                member.id)]
        r = await client.post("/api/v1/orders", json={
            "id": f"back-{i}", "member_id": member.id, "amount": 20_000,
            "coupon_codes": codes}, headers=merchant.headers)
        assert r.status_code == 201, r.text
    result = await _result(client, merchant, send_id)
    assert result["redeemed"] == 1
    assert result["repurchase_rate"] == {"treated": 0.5, "holdout": 0.0}
    assert result["lift"] == 0.5
    # A rerun of the job changes nothing.
    await services.redis.enqueue_job("sends.run", send_id, _job_id="again")
    await drain(services.settings, clock)
    assert (await _result(client, merchant, send_id))["issued"] == 8
    assert await services.pool.fetchval(
        "SELECT issued FROM coupon_templates WHERE id = $1", template["id"]) == 8


async def test_birthday_sends_run_daily_once_per_day(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    merchant = await factory.merchant()
    template = await factory.template(merchant, name="生日券")
    # The clock reads 2026-11-23 12:00 in Shanghai.
    today = [await factory.member(merchant, birthday="1990-11-23") for _ in range(3)]
    tomorrow = await factory.member(merchant, birthday="1995-11-24")
    await factory.member(merchant)
    r = await _send(client, merchant, name="生日有礼", coupon_template_id=template["id"],
                    segment={"birthday": "today"}, holdout_percent=0, repeat="daily")
    assert r.status_code == 202 and r.json()["status"] == "scheduled"
    definition = r.json()["id"]
    ctx = {"services": services}
    assert await tasks.schedule_daily(ctx) == 1
    assert await tasks.schedule_daily(ctx) == 0  # once a day
    await drain(services.settings, clock)
    result = await _result(client, merchant, definition)
    assert (result["targeted"], result["issued"]) == (3, 3)

    async def birthday_coupons(member: MemberHandle) -> int:
        mine = await client.get("/api/v1/me/coupons", headers=member.headers)
        return len([c for c in mine.json()["items"] if c["source"] == "send"])

    assert [await birthday_coupons(m) for m in today] == [1, 1, 1]
    clock.advance(days=1)
    assert await tasks.schedule_daily(ctx) == 1
    await drain(services.settings, clock)
    assert await birthday_coupons(tomorrow) == 1
    assert (await _result(client, merchant, definition))["issued"] == 4


async def test_daily_sends_go_out_at_eight_in_each_merchants_own_morning(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    # 2026-11-23 23:59 UTC: 07:59 on the 24th in Shanghai, 15:59 on the 23rd in Los Angeles.
    clock.at = datetime(2026, 11, 23, 23, 59, tzinfo=UTC)
    shanghai = await factory.merchant("Shanghai Shop", time_zone="Asia/Shanghai")
    los_angeles = await factory.merchant("LA Shop", time_zone="America/Los_Angeles")
    shanghai_24th = await factory.member(shanghai, birthday="1990-11-24")
    la_23rd = await factory.member(los_angeles, birthday="1990-11-23")
    la_24th = await factory.member(los_angeles, birthday="1990-11-24")
    definitions = {}
    for merchant in (shanghai, los_angeles):
        template = await factory.template(merchant, name="生日券")
        r = await _send(client, merchant, name="生日有礼", coupon_template_id=template["id"],
                        segment={"birthday": "today"}, holdout_percent=0, repeat="daily")
        assert r.status_code == 202, r.text
        definitions[merchant.id] = r.json()["id"]

    async def run_dates(merchant: MerchantHandle) -> list[date]:
        return [row["run_date"] for row in await services.pool.fetch(
            "SELECT run_date FROM sends WHERE parent_id = $1 ORDER BY run_date",
            definitions[merchant.id])]

    ctx = {"services": services}
    assert await tasks.schedule_daily(ctx) == 1
    assert await run_dates(shanghai) == []
    assert await run_dates(los_angeles) == [date(2026, 11, 23)]  # past 08:00 there
    clock.advance(minutes=1)  # 08:00 in Shanghai
    assert await tasks.schedule_daily(ctx) == 1
    assert await run_dates(shanghai) == [date(2026, 11, 24)]
    assert await tasks.schedule_daily(ctx) == 0  # once a day
    clock.advance(hours=15, minutes=59)  # 07:59 on the 24th in Los Angeles
    assert await tasks.schedule_daily(ctx) == 0
    # 10:30 in Los Angeles: the worker was down at 08:00, the day's run is still made.
    clock.advance(hours=2, minutes=31)
    assert await tasks.schedule_daily(ctx) == 1
    assert await tasks.schedule_daily(ctx) == 0
    assert await run_dates(los_angeles) == [date(2026, 11, 23), date(2026, 11, 24)]
    assert await run_dates(shanghai) == [date(2026, 11, 24)]
    # Each run targets the birthdays of its own day, whenever its job gets to run.
    await drain(services.settings, clock)
    assert [await services.pool.fetchval(
        "SELECT count(*) FROM coupons WHERE member_id = $1 AND source = 'send'", member.id)
        for member in (shanghai_24th, la_23rd, la_24th)] == [1, 1, 1]


async def test_send_to_100k_members_has_exact_counts(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    merchant = await factory.merchant()
    template = await factory.template(merchant, stock=None)
    await services.pool.execute(
        """INSERT INTO members (id, merchant_id, external_id)
           SELECT 'mbr_bulk' || lpad(i::text, 7, '0'), $1, 'bulk-' || i
           FROM generate_series(1, 100000) AS i""", merchant.id)
    r = await _send(client, merchant, name="全员券", coupon_template_id=template["id"])
    send_id = r.json()["id"]
    started = time.perf_counter()
    issued = await tasks.run({"services": services}, send_id)
    elapsed = time.perf_counter() - started
    print(f"send to 100,000 members: {elapsed:.2f} s")
    assert issued == 90_000
    result = await _result(client, merchant, send_id)
    assert (result["status"], result["targeted"], result["held_out"], result["issued"]) == (
        "done", 100_000, 10_000, 90_000)
    pool = services.pool
    assert await pool.fetchval("SELECT count(*) FROM coupons WHERE source = 'send'") == 90_000
    assert await pool.fetchval("SELECT count(DISTINCT member_id) FROM coupons") == 90_000
    assert await pool.fetchval(
        "SELECT issued FROM coupon_templates WHERE id = $1", template["id"]) == 90_000


async def test_segments_by_tier_unredeemed_coupons_and_birthday_week(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    merchant = await factory.merchant()
    template = await factory.template(merchant)
    gold = [await factory.member(merchant, birthday="1990-11-29") for _ in range(2)]
    await factory.member(merchant, birthday="1990-11-30")  # 8 days away: not this week
    await services.pool.execute("UPDATE members SET tier = '金卡' WHERE id = $1", gold[0].id)

    async def targeted(segment: dict[str, object]) -> int:
        r = await _send(client, merchant, name="x", coupon_template_id=template["id"],
                        segment=segment, holdout_percent=0)
        assert r.status_code == 202, r.text
        await tasks.run({"services": services}, r.json()["id"])
        return int((await _result(client, merchant, r.json()["id"]))["targeted"])

    assert await targeted({"tier": "金卡"}) == 1
    # Everyone holds the first send's coupon now but gold[1] and the third member.
    assert await targeted({"holding_unredeemed": False}) == 2
    assert await targeted({"holding_unredeemed": True}) == 3
    assert await targeted({"birthday": "this_week"}) == 2
    assert await targeted({"birthday": "this_week", "tier": "金卡"}) == 1
