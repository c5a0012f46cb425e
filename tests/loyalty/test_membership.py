"""Paid membership (付费会员卡): plans, buying and renewing (cash or balance), the member
discount before coupons, the monthly coupon once per calendar month, and the started and
ended webhooks. Real PostgreSQL and Redis; concurrency by asyncio.gather of requests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from engagement.coupons import service as coupon_service
from engagement.coupons.schemas import StockChange
from engagement.kit.clock import FrozenClock
from engagement.kit.db import transaction
from engagement.kit.state import Services
from engagement.loyalty.membership import tasks
from tests.factories import Factory, MemberHandle, MerchantHandle
from tests.worker import drain

DAY = timedelta(days=1)


async def _plans(factory: Factory, shop: MerchantHandle, *plans: dict[str, Any]) -> list[str]:
    r = await factory.client.put("/api/v1/membership-plans", headers=shop.headers,
                                 json={"plans": list(plans)})
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()["plans"]]


async def _buy(client: httpx.AsyncClient, shop: MerchantHandle, member: MemberHandle,
               plan_id: str, key: str, paid_with: str = "cash") -> httpx.Response:
    return await client.post(f"/api/v1/members/{member.id}/memberships",
                             json={"plan_id": plan_id, "paid_with": paid_with},
                             headers={**shop.headers, "Idempotency-Key": key})


async def _top_up(factory: Factory, shop: MerchantHandle, member: MemberHandle,
                  pay: int) -> None:
    r = await factory.client.post(f"/api/v1/members/{member.id}/top-ups", json={"pay": pay},
                                  headers={**shop.headers, "Idempotency-Key": f"top-{pay}"})
    assert r.status_code == 201, r.text


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_plans_are_validated_replaced_and_archived(factory: Factory,
                                                         services: Services) -> None:
    shop = await factory.merchant()
    template = await factory.template(shop)
    assert (await factory.client.get("/api/v1/membership-plans",
                                     headers=shop.headers)).json() == {"plans": []}
    gold = {"name": "黄金卡", "price": 19900, "days": 365, "discount_percent": 10,
            "monthly_coupon_template_id": template["id"]}
    [gold_id] = await _plans(factory, shop, gold)
    for body, field in (
            ({"plans": [{**gold, "price": 0}]}, "plans.0.price"),
            ({"plans": [{**gold, "days": 0}]}, "plans.0.days"),
            ({"plans": [{**gold, "discount_percent": 96}]}, "plans.0.discount_percent"),
            ({"plans": [{**gold, "price": "100"}]}, "plans.0.price"),
            ({"plans": [{**gold, "name": ""}]}, "plans.0.name"),
            ({"plans": [gold, gold]}, None),
            ({"plans": [{**gold, "monthly_coupon_template_id": "tpl_nope"}]},
             "plans.0.monthly_coupon_template_id")):
        r = await factory.client.put("/api/v1/membership-plans", json=body,
                                     headers=shop.headers)
        assert r.status_code == 422, body
        error = r.json()["error"]
        if field is not None:
            assert field in [f["field"] for f in error["details"]["fields"]], error
        if field and field.endswith("template_id"):
            assert error["code"] == "unknown_coupon_template"
    member = await factory.member(shop)
    assert (await _buy(factory.client, shop, member, gold_id, "k1")).status_code == 201
    # The same plan again keeps its id; one left out is archived, not deleted.
    silver = {"name": "白银卡", "price": 9900, "days": 30}
    ids = await _plans(factory, shop, silver, gold)
    assert ids[1] == gold_id
    [silver_id] = await _plans(factory, shop, silver)
    assert silver_id == ids[0]
    got = (await factory.client.get("/api/v1/membership-plans", headers=shop.headers)).json()
    assert [p["name"] for p in got["plans"]] == ["白银卡"]
    assert got["plans"][0]["discount_percent"] == 0
    mine = (await factory.client.get("/api/v1/me/membership", headers=member.headers)).json()
    assert mine["membership"]["plan_id"] == gold_id and mine["membership"]["active"]
    assert mine["membership"]["discount_percent"] == 10
    # An archived plan cannot be bought any more.
    r = await _buy(factory.client, shop, member, gold_id, "k2")
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_membership_plan"
    assert await services.pool.fetchval("SELECT count(*) FROM membership_purchases") == 1


async def test_renewal_extends_from_the_current_end(factory: Factory, clock: FrozenClock,
                                                    services: Services) -> None:
    shop = await factory.merchant()
    [plan] = await _plans(factory, shop, {"name": "月卡", "price": 3000, "days": 30})
    member = await factory.member(shop)
    start = clock.now()
    first = (await _buy(factory.client, shop, member, plan, "a")).json()
    assert (first["renewal"], _at(first["starts_at"]), _at(first["ends_at"])) == (
        False, start, start + 30 * DAY)
    clock.advance(days=10)
    second = await _buy(factory.client, shop, member, plan, "b")
    assert second.status_code == 201
    assert second.json()["renewal"] is True
    assert _at(second.json()["starts_at"]) == start
    assert _at(second.json()["ends_at"]) == start + 60 * DAY
    # A retry with the same key replays; it does not extend again.
    again = await _buy(factory.client, shop, member, plan, "b")
    assert again.json() == second.json()
    # Bought after the end, a membership starts afresh.
    clock.advance(days=70)
    third = (await _buy(factory.client, shop, member, plan, "c")).json()
    assert third["renewal"] is False
    assert (_at(third["starts_at"]), _at(third["ends_at"])) == (clock.now(),
                                                                 clock.now() + 30 * DAY)
    rows = await services.pool.fetch(
        "SELECT renewal, price, paid_with FROM membership_purchases ORDER BY id")
    assert [(r["renewal"], r["price"], r["paid_with"]) for r in rows] == [
        (False, 3000, "cash"), (True, 3000, "cash"), (False, 3000, "cash")]
    r = await _buy(factory.client, shop, member, plan, "d", paid_with="card")
    assert r.status_code == 422
    r = await factory.client.post("/api/v1/members/mem_nope/memberships",
                                  json={"plan_id": plan}, headers=shop.headers)
    assert r.status_code == 404


async def test_balance_purchase_debits_once_under_ten_identical_requests(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    [plan] = await _plans(factory, shop, {"name": "年卡", "price": 19900, "days": 365})
    member = await factory.member(shop)
    await _top_up(factory, shop, member, 50000)
    answers = await asyncio.gather(*[
        _buy(factory.client, shop, member, plan, "same", "balance") for _ in range(10)])
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    assert answers[0].json()["balance"] == 50000 - 19900
    ledger = await services.pool.fetch(
        "SELECT principal, bonus FROM balance_ledger WHERE kind = 'membership'")
    assert [(r["principal"], r["bonus"]) for r in ledger] == [(-19900, 0)]
    assert await services.pool.fetchval("SELECT count(*) FROM membership_purchases") == 1
    mine = (await factory.client.get("/api/v1/me/balance", headers=member.headers)).json()
    assert mine["balance"] == 50000 - 19900
    assert mine["items"][0]["kind"] == "membership"


async def test_concurrent_balance_purchases_never_overdraw(factory: Factory,
                                                           services: Services) -> None:
    shop = await factory.merchant()
    [plan] = await _plans(factory, shop, {"name": "月卡", "price": 10000, "days": 30})
    member = await factory.member(shop)
    await _top_up(factory, shop, member, 25000)
    answers = await asyncio.gather(*[
        _buy(factory.client, shop, member, plan, f"k{i}", "balance") for i in range(6)])
    codes = sorted(r.status_code for r in answers)
    assert codes == [201, 201, 409, 409, 409, 409], codes
    refused = [r.json()["error"]["code"] for r in answers if r.status_code == 409]
    assert set(refused) == {"insufficient_balance"}
    assert await services.pool.fetchval(
        "SELECT principal + bonus FROM balances WHERE member_id = $1", member.id) == 5000
    assert await services.pool.fetchval("SELECT count(*) FROM membership_purchases") == 2
    ends = await services.pool.fetchval("SELECT ends_at - starts_at FROM memberships")
    assert ends == 60 * DAY  # two purchases, two months, nothing from the refused ones


async def test_quote_and_order_take_the_member_discount_before_coupons(
        factory: Factory, clock: FrozenClock, services: Services) -> None:
    shop = await factory.merchant()
    [plan] = await _plans(factory, shop, {"name": "会员", "price": 9900, "days": 30,
                                          "discount_percent": 10})
    member = await factory.member(shop)
    off_20 = await factory.template(shop, name="满80减20", min_spend=8000,
                                    discount={"type": "amount_off", "amount": 2000})
    strict = await factory.template(shop, name="满95减5", min_spend=9500,
                                    discount={"type": "amount_off", "amount": 500})
    codes = {}
    for name, template in (("off", off_20), ("strict", strict)):
        r = await factory.client.post(f"/api/v1/members/{member.id}/coupons",
                                      json={"coupon_template_id": template["id"]},
                                      headers=shop.headers)
        assert r.status_code == 201, r.text
        codes[name] = r.json()["code"]
    body = {"member_id": member.id, "subtotal": 10001, "coupon_codes": [codes["off"]]}
    before = (await factory.client.post("/api/v1/orders/quote", json=body,
                                        headers=shop.headers)).json()
    assert (before["member_discount"], before["discount"], before["amount"]) == (0, 2000, 8001)
    assert (await _buy(factory.client, shop, member, plan, "m")).status_code == 201
    quote = (await factory.client.post("/api/v1/orders/quote", json=body,
                                       headers=shop.headers)).json()
    # 10% of 10001 is 1000 (rounded down, for the merchant); the coupon applies to 9001.
    assert (quote["member_discount"], quote["discount"], quote["amount"]) == (1000, 2000, 7001)
    # The minimum spend is checked against the subtotal after the member discount.
    r = await factory.client.post("/api/v1/orders/quote", headers=shop.headers, json={
        **body, "coupon_codes": [codes["strict"]]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "coupon_min_spend_not_met"
    order = await factory.client.post("/api/v1/orders", headers=shop.headers,
                                      json={**body, "id": "o-1", "amount": 7001})
    assert order.status_code == 201, order.text
    assert (order.json()["member_discount"], order.json()["amount"]) == (1000, 7001)
    got = (await factory.client.get("/api/v1/orders/o-1", headers=shop.headers)).json()
    assert got["member_discount"] == 1000
    wrong = await factory.client.post("/api/v1/orders", headers=shop.headers, json={
        "member_id": member.id, "subtotal": 5000, "amount": 5000, "id": "o-2"})
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "amount_mismatch"
    # After the end, no discount.
    clock.advance(days=31)
    quote = (await factory.client.post("/api/v1/orders/quote", json={
        "member_id": member.id, "subtotal": 10000}, headers=shop.headers)).json()
    assert quote["member_discount"] == 0 and quote["amount"] == 10000


async def _coupons(services: Services, member: MemberHandle) -> int:
    return int(await services.pool.fetchval(
        "SELECT count(*) FROM coupons WHERE member_id = $1 AND source = 'membership'",
        member.id))


async def test_the_monthly_coupon_arrives_once_a_month(factory: Factory, clock: FrozenClock,
                                                       services: Services) -> None:
    shop = await factory.merchant()
    template = await factory.template(shop, name="会员月券")
    [plan] = await _plans(factory, shop, {"name": "年卡", "price": 19900, "days": 365,
                                          "monthly_coupon_template_id": template["id"]})
    members = [await factory.member(shop) for _ in range(3)]
    for i, member in enumerate(members[:2]):
        assert (await _buy(factory.client, shop, member, plan, f"b{i}")).status_code == 201
    # The first month's coupon comes with the purchase; running the job changes nothing.
    assert [await _coupons(services, m) for m in members] == [1, 1, 0]
    assert await tasks.give_monthly_coupons(services.pool, clock.now()) == 0
    assert await tasks.give_monthly_coupons(services.pool, clock.now()) == 0
    # 2026-11-30 16:30 UTC is 1 December 00:30 in Shanghai: the merchant's new month.
    clock.at = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    runs = await asyncio.gather(*[tasks.give_monthly_coupons(services.pool, clock.now())
                                  for _ in range(4)])
    assert sorted(runs) == [0, 0, 0, 2]
    assert await tasks.give_monthly_coupons(services.pool, clock.now()) == 0
    assert [await _coupons(services, m) for m in members] == [2, 2, 0]
    # January, through a real worker: the job enqueued twice gives each member one coupon.
    clock.at = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    for run in ("a", "b"):
        await services.redis.enqueue_job("membership.monthly_coupons",
                                         _job_id=f"membership.monthly_coupons:{run}")
    await drain(services.settings, clock)
    assert [await _coupons(services, m) for m in members] == [3, 3, 0]
    months = await services.pool.fetch(
        "SELECT month, count(*) AS n FROM membership_coupon_grants GROUP BY month ORDER BY 1")
    assert [(r["month"], r["n"]) for r in months] == [
        ("2026-11", 2), ("2026-12", 2), ("2027-01", 2)]
    assert await services.pool.fetchval(
        "SELECT count(*) FROM membership_coupon_grants WHERE coupon_id IS NULL") == 0


async def test_started_and_ended_webhooks_fire_once(factory: Factory, clock: FrozenClock,
                                                    services: Services) -> None:
    services.settings = services.settings.model_copy(
        update={"webhooks_allow_private_targets": True})
    shop = await factory.merchant()
    r = await factory.client.post("/api/v1/webhooks", headers=shop.headers, json={
        "url": "http://127.0.0.1:9/hook", "events": ["membership.started", "membership.ended"]})
    assert r.status_code == 201, r.text
    [plan] = await _plans(factory, shop, {"name": "周卡", "price": 1000, "days": 7})
    member = await factory.member(shop)
    assert (await _buy(factory.client, shop, member, plan, "w")).status_code == 201
    assert await tasks.end_memberships(services.pool, clock.now()) == 0
    clock.advance(days=7)
    runs = await asyncio.gather(*[tasks.end_memberships(services.pool, clock.now())
                                  for _ in range(3)])
    assert sorted(runs) == [0, 0, 1]
    assert await tasks.end_memberships(services.pool, clock.now()) == 0
    # Run out, then bought again before the job saw it: the old one ends first, once.
    other = await factory.member(shop)
    assert (await _buy(factory.client, shop, other, plan, "o1")).status_code == 201
    clock.advance(days=8)
    assert (await _buy(factory.client, shop, other, plan, "o2")).status_code == 201
    assert await tasks.end_memberships(services.pool, clock.now()) == 0
    rows = await services.pool.fetch(
        """SELECT type, payload->'data'->>'member_id' AS member_id,
                  payload->'data'->>'plan_id' AS plan_id,
                  payload->'data'->>'renewal' AS renewal
           FROM webhook_deliveries""")
    assert sorted((r["member_id"], r["type"]) for r in rows) == sorted([
        (member.id, "membership.started"), (member.id, "membership.ended"),
        (other.id, "membership.started"), (other.id, "membership.ended"),
        (other.id, "membership.started")])
    assert {r["plan_id"] for r in rows} == {plan}
    assert [r["renewal"] for r in rows if r["type"] == "membership.started"] == [
        "false", "false", "false"]


async def test_a_coupon_out_of_stock_comes_later_and_plans_are_the_merchants_own(
        factory: Factory, clock: FrozenClock, services: Services) -> None:
    shop, rival = await factory.merchant(), await factory.merchant("隔壁")
    template = await factory.template(shop, name="月券", stock=1)
    [plan] = await _plans(factory, shop, {"name": "年卡", "price": 100, "days": 365,
                                          "monthly_coupon_template_id": template["id"]})
    first, second = await factory.member(shop), await factory.member(shop)
    assert (await _buy(factory.client, shop, first, plan, "1")).status_code == 201
    # The stock ran out: the purchase still counts, the coupon comes when there is stock.
    assert (await _buy(factory.client, shop, second, plan, "2")).status_code == 201
    assert [await _coupons(services, m) for m in (first, second)] == [1, 0]
    assert await tasks.give_monthly_coupons(services.pool, clock.now()) == 0
    async with transaction(services.pool) as conn:  # the console's 加库存
        await coupon_service.change_stock(conn, shop.id, template["id"], StockChange(delta=5))
    assert await tasks.give_monthly_coupons(services.pool, clock.now()) == 1
    assert [await _coupons(services, m) for m in (first, second)] == [1, 1]
    # Another merchant's plan is no plan of this one's.
    stranger = await factory.member(rival)
    r = await _buy(factory.client, rival, stranger, plan, "3")
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_membership_plan"
    r = await _buy(factory.client, rival, first, plan, "4")
    assert r.status_code == 404
    assert await services.pool.fetchval("SELECT count(*) FROM membership_purchases") == 2
