"""Birthday coupons (生日礼) as an automation: PUT /api/v1/birthday-automation builds on the
daily sends, a number of days before the birthday, in the merchant's time zone, and gives
each member one coupon per birthday however many workers run at once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from engagement.loyalty.sends import tasks
from tests.factories import Factory, MerchantHandle
from tests.worker import drain


async def _put(client: httpx.AsyncClient, merchant: MerchantHandle,
               **body: object) -> httpx.Response:
    return await client.put("/api/v1/birthday-automation", json=body, headers=merchant.headers)


async def _get(client: httpx.AsyncClient, merchant: MerchantHandle) -> dict[str, Any]:
    r = await client.get("/api/v1/birthday-automation", headers=merchant.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _birthday_coupons(services: Services, member_id: str) -> int:
    return int(await services.pool.fetchval(
        "SELECT count(*) FROM coupons WHERE member_id = $1 AND source = 'send'", member_id))


async def test_birthday_automation_is_set_and_refuses_bad_input(
        client: httpx.AsyncClient, factory: Factory) -> None:
    merchant = await factory.merchant()
    other = await factory.merchant("Other")
    template = await factory.template(merchant, name="生日券")
    foreign = await factory.template(other, name="别家的券")
    assert await _get(client, merchant) == {"enabled": False, "coupon_template_id": None,
                                            "days_before": 0, "send_id": None,
                                            "updated_at": None}
    for body, status in [({"enabled": True}, 422),
                         ({"enabled": True, "coupon_template_id": template["id"],
                           "days_before": 31}, 422),
                         ({"enabled": True, "coupon_template_id": template["id"],
                           "days_before": -1}, 422),
                         ({"enabled": "yes", "coupon_template_id": template["id"]}, 422),
                         ({"enabled": True, "coupon_template_id": foreign["id"]}, 422)]:
        r = await _put(client, merchant, **body)
        assert r.status_code == status, (body, r.text)
        assert "code" in r.json()["error"]
    assert (await _get(client, merchant))["send_id"] is None
    r = await _put(client, merchant, enabled=True, coupon_template_id=template["id"],
                   days_before=3)
    assert r.status_code == 200, r.text
    saved = r.json()
    assert (saved["enabled"], saved["days_before"]) == (True, 3)
    # It is a daily send like any other, readable through the sends API.
    send = (await client.get(f"/api/v1/sends/{saved['send_id']}",
                             headers=merchant.headers)).json()
    assert send["repeat"] == "daily" and send["segment"]["birthday_days_ahead"] == 3
    # Off keeps the coupon and the definition; on again reuses them.
    r = await _put(client, merchant, enabled=False)
    assert r.status_code == 200 and r.json()["coupon_template_id"] == template["id"]
    r = await _put(client, merchant, enabled=True, coupon_template_id=template["id"])
    assert r.json()["send_id"] == saved["send_id"] and r.json()["days_before"] == 0


async def test_birthday_coupons_go_out_days_before_in_the_merchants_zone(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    # The clock reads 2026-11-23 12:00 in Shanghai, 20:00 on the 22nd in Los Angeles.
    shanghai = await factory.merchant("Shanghai", time_zone="Asia/Shanghai")
    los_angeles = await factory.merchant("LA", time_zone="America/Los_Angeles")
    sh_26th = await factory.member(shanghai, birthday="1990-11-26")
    sh_23rd = await factory.member(shanghai, birthday="1990-11-23")
    la_25th = await factory.member(los_angeles, birthday="1990-11-25")
    la_26th = await factory.member(los_angeles, birthday="1990-11-26")
    for merchant in (shanghai, los_angeles):
        template = await factory.template(merchant, name="生日券")
        r = await _put(client, merchant, enabled=True, coupon_template_id=template["id"],
                       days_before=3)
        assert r.status_code == 200, r.text
    ctx = {"services": services}
    assert await tasks.schedule_daily(ctx) == 2
    await drain(services.settings, clock)
    assert [await _birthday_coupons(services, m.id)
            for m in (sh_26th, sh_23rd, la_25th, la_26th)] == [1, 0, 1, 0]


async def test_one_birthday_coupon_a_year_with_two_workers_and_a_changed_setting(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    merchant = await factory.merchant(time_zone="Asia/Shanghai")
    template = await factory.template(merchant, name="生日券")
    # Three days ahead of 2026-11-23: the 26th.
    members = [await factory.member(merchant, birthday="1990-11-26") for _ in range(20)]
    elsewhere = await factory.member(merchant, birthday="1990-05-01")
    r = await _put(client, merchant, enabled=True, coupon_template_id=template["id"],
                   days_before=3)
    definition = r.json()["send_id"]
    ctx = {"services": services}

    async def worker() -> None:
        # What a worker's cron and jobs do, raced against another worker doing the same.
        await tasks.schedule_daily(ctx)
        for send_id in await services.pool.fetchval(
                "SELECT array_agg(id) FROM sends WHERE parent_id = $1", definition) or []:
            await tasks.run(ctx, send_id)

    await asyncio.gather(*[worker() for _ in range(8)])
    await asyncio.gather(drain(services.settings, clock), drain(services.settings, clock))
    assert [await _birthday_coupons(services, m.id) for m in members] == [1] * 20
    assert await _birthday_coupons(services, elsewhere.id) == 0
    # The merchant now sends one day before: on the 25th the same birthdays match again,
    # and nobody gets a second coupon for the same birthday.
    await _put(client, merchant, enabled=True, coupon_template_id=template["id"],
               days_before=1)
    clock.advance(days=2)
    await asyncio.gather(*[worker() for _ in range(8)])
    runs = await services.pool.fetch(
        "SELECT targeted, status FROM sends WHERE parent_id = $1 ORDER BY run_date",
        definition)
    assert [(r["targeted"], r["status"]) for r in runs] == [(20, "done"), (0, "done")]
    assert [await _birthday_coupons(services, m.id) for m in members] == [1] * 20
    # Paused, nothing runs; the next birthday (a year on) brings the next coupon.
    await _put(client, merchant, enabled=False)
    clock.advance(days=365)
    assert await tasks.schedule_daily(ctx) == 0
    await _put(client, merchant, enabled=True, coupon_template_id=template["id"],
               days_before=1)
    await asyncio.gather(*[worker() for _ in range(8)])
    assert [await _birthday_coupons(services, m.id) for m in members] == [2] * 20
    issued = await services.pool.fetchval(
        "SELECT issued FROM coupon_templates WHERE id = $1", template["id"])
    assert issued == 40
