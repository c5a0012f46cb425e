"""The console's sends pages: the empty state's preset, the live audience count, a send
made from the form (now or at a time in the merchant's zone), its result with the chart,
and bad forms refused with the field's message and nothing sent."""

from __future__ import annotations

import re

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from tests.console.helpers import Console, csrf_token, login
from tests.factories import Factory
from tests.loyalty.helpers import pay
from tests.worker import drain


async def _later(shop: Console, clock: FrozenClock, days: int) -> None:
    """Move the clock on and sign in again (the console session has ended by then)."""
    clock.advance(days=days)
    assert (await login(shop.client, shop.email)).status_code == 303
    shop.token = csrf_token((await shop.get("/console/sends")).text)


def _form(template_id: str, **fields: str) -> dict[str, str]:
    return {"name": "老客回店礼", "coupon_template_id": template_id, "holdout_percent": "10",
            "when": "now", **fields}


async def test_empty_list_offers_the_win_back_preset(shop: Console) -> None:
    page = (await shop.get("/console/sends")).text
    assert "data-empty" in page and 'href="/console/sends/new?preset=win_back"' in page
    assert 'href="/console/sends"' in page  # in the navigation
    form = (await shop.get("/console/sends/new?preset=win_back")).text
    assert 'name="inactive_days" inputmode="numeric" value="60"' in form
    assert "60天沉睡会员唤醒" in form
    english = (await shop.client.get("/console/sends/new?preset=win_back&lang=en",
                                     headers={"Accept": "text/html"})).text
    assert "60天" not in english


async def test_audience_follows_the_filters(shop: Console, factory: Factory,
                                            clock: FrozenClock) -> None:
    members = [await factory.member(shop.merchant) for _ in range(5)]
    for n, member in enumerate(members[:3]):
        await pay(shop.client, member, f"o-{n}", 3_000)
    await _later(shop, clock, 61)
    await pay(shop.client, members[0], "o-back", 3_000)

    async def count(**query: str) -> str:
        r = await shop.client.get("/console/sends/audience", params=query,
                                  headers={"Accept": "text/html", "HX-Request": "true"})
        assert r.status_code == 200
        found = re.search(r'data-audience="([^"]+)"', r.text)
        assert found
        return found.group(1)

    assert await count() == "5"
    assert await count(inactive_days="60") == "4"
    assert await count(inactive_days="60", min_orders="1") == "2"
    assert await count(inactive_days="sixty") == "invalid"
    assert await count(orders_within_days="30") == "invalid"  # needs min_orders


async def test_a_send_from_the_form_and_its_result(shop: Console, factory: Factory,
                                                   services: Services,
                                                   clock: FrozenClock) -> None:
    template = await factory.template(shop.merchant, name="回店立减10元", stock=100)
    members = [await factory.member(shop.merchant) for _ in range(20)]
    for n, member in enumerate(members):
        await pay(shop.client, member, f"o-{n}", 3_000)
    await _later(shop, clock, 61)
    r = await shop.post("/console/sends/new", _form(template["id"], inactive_days="60",
                                                    min_orders="1", holdout_percent="20"))
    assert r.status_code == 303, r.text
    assert r.headers["location"].endswith("notice=send_queued")
    send_path = r.headers["location"].split("?")[0]
    page = (await shop.get(send_path)).text
    assert 'data-send-status="queued"' in page and "hx-get" in page
    await drain(services.settings, clock)
    clock.advance(days=2)
    send_id = send_path.rsplit("/", 1)[1]
    held = {row["member_id"] for row in await services.pool.fetch(
        "SELECT member_id FROM send_members WHERE send_id = $1 AND held_out", send_id)}
    treated = [m for m in members if m.id not in held]
    for n, member in enumerate(treated[:8]):
        await pay(shop.client, member, f"back-{n}", 3_000)
    page = (await shop.get(send_path)).text
    assert 'data-send-status="done"' in page and "every " not in page  # polling stops
    assert re.search(r'data-count="targeted">20<', page)
    assert re.search(r'data-count="held_out">4<', page)
    assert re.search(r'data-count="issued">16<', page)
    assert 'data-bar="treated" data-rate="0.5"' in page
    assert 'data-bar="holdout" data-rate="0.0"' in page
    assert 'data-lift="0.5"' in page and "+50.0%" in page
    listing = (await shop.get("/console/sends")).text
    assert f'data-send-id="{send_id}"' in listing and "+50.0%" in listing


async def test_a_send_at_a_time_in_the_merchants_zone(shop: Console, factory: Factory,
                                                     services: Services,
                                                     clock: FrozenClock) -> None:
    template = await factory.template(shop.merchant)
    await factory.member(shop.merchant)
    # The clock reads 2026-11-23 12:00 in Shanghai: 18:30 there is 10:30 UTC.
    r = await shop.post("/console/sends/new", _form(template["id"], when="later",
                                                    scheduled_at="2026-11-23T18:30"))
    assert r.status_code == 303 and r.headers["location"].endswith("notice=send_scheduled")
    row = await services.pool.fetchrow("SELECT status, scheduled_at FROM sends")
    assert row["status"] == "scheduled"
    assert row["scheduled_at"].isoformat() == "2026-11-23T10:30:00+00:00"
    page = (await shop.get(r.headers["location"].split("?")[0])).text
    assert "2026-11-23 18:30" in page and "data-chart-pending" in page


async def test_bad_send_forms_say_why_and_send_nothing(shop: Console, factory: Factory,
                                                      services: Services) -> None:
    template = await factory.template(shop.merchant)
    other = await factory.template(await factory.merchant("Other"))
    for fields, field, message in [
            ({"name": ""}, "name", "请填写此项"),
            ({"coupon_template_id": ""}, "coupon_template_id", "请填写此项"),
            ({"coupon_template_id": other["id"]}, "coupon_template_id", "请选择一张优惠券"),
            ({"holdout_percent": "95"}, "holdout_percent", "数值太大"),
            ({"inactive_days": "0"}, "inactive_days", "数值太小"),
            ({"orders_within_days": "30"}, "min_orders", "也要填至少消费几次"),
            ({"when": "later", "scheduled_at": ""}, "scheduled_at", "请选择发送时间"),
            ({"when": "later", "scheduled_at": "2026-11-23T11:00"}, "scheduled_at",
             "请选择现在之后的时间")]:
        r = await shop.post("/console/sends/new", _form(template["id"], **fields))
        assert r.status_code == 422, fields
        assert message in r.text and f'data-error-for="{field}"' in r.text, fields
    assert await services.pool.fetchval("SELECT count(*) FROM sends") == 0


async def test_a_send_that_runs_out_of_stock_says_what_to_do(
        shop: Console, factory: Factory, services: Services, clock: FrozenClock) -> None:
    template = await factory.template(shop.merchant, stock=2)
    for _ in range(5):
        await factory.member(shop.merchant)
    r = await shop.post("/console/sends/new", _form(template["id"], holdout_percent="0"))
    assert r.status_code == 303
    await drain(services.settings, clock)
    page = (await shop.get(r.headers["location"].split("?")[0])).text
    assert 'data-send-status="failed"' in page and "data-send-error" in page
    assert "优惠券库存不足" in page and "every " not in page
    assert await services.pool.fetchval(
        "SELECT issued FROM coupon_templates WHERE id = $1", template["id"]) == 0


async def test_a_daily_send_shows_its_runs_results(shop: Console, factory: Factory,
                                                   services: Services,
                                                   clock: FrozenClock) -> None:
    template = await factory.template(shop.merchant, name="生日券")
    for _ in range(2):
        await factory.member(shop.merchant, birthday="1990-11-23")  # today in Shanghai
    r = await shop.client.post("/api/v1/sends", headers=shop.merchant.headers, json={
        "name": "生日有礼", "coupon_template_id": template["id"],
        "segment": {"birthday": "today"}, "holdout_percent": 0, "repeat": "daily"})
    definition = r.json()["id"]
    page = (await shop.get(f"/console/sends/{definition}")).text
    assert "data-chart-pending" in page
    await services.redis.enqueue_job("sends.schedule_daily")
    await drain(services.settings, clock)
    page = (await shop.get(f"/console/sends/{definition}")).text
    assert re.search(r'data-count="issued">2<', page) and "data-lift-chart" in page
    listing = (await shop.get("/console/sends")).text
    assert listing.count("data-send-id=") == 1  # the definition, its runs inside it
