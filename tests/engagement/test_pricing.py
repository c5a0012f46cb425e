"""Pricing at checkout (API.md, "Pricing an order"): the service works out what coupons take
off a subtotal, the quote changes nothing, and points and commission follow the money
paid."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from engagement.kit.state import Services
from tests.engagement.test_orders import _coupon, _order
from tests.factories import Factory, MerchantHandle
from tests.loyalty.helpers import set_program
from tests.referrals.helpers import join, program, share_code


async def _quote(client: httpx.AsyncClient, shop: MerchantHandle,
                 **body: Any) -> httpx.Response:
    return await client.post("/api/v1/orders/quote", json=body, headers=shop.headers)


def _error(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json().get("error", {}).get("code", "")


async def test_min_spend_is_against_the_subtotal_and_the_member_pays_the_rest(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    """The ¥50 order with a 满50减20 coupon: accepted, ¥30 paid (the first version of the
    API refused it, checking the minimum spend against the ¥30)."""
    shop = await factory.merchant()
    member = await factory.member(shop)
    code = await _coupon(factory, shop, member, name="满50减20", min_spend=5000,
                         discount={"type": "amount_off", "amount": 2000})
    r = await _order(client, shop, id="o-50", member_id=member.id, subtotal=5000,
                     coupon_codes=[code])
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["subtotal"], body["discount"], body["amount"]) == (5000, 2000, 3000)
    assert body["coupons"] == [{"code": code, "discount": 2000}]
    row = await services.pool.fetchrow(
        "SELECT amount, subtotal, discount FROM orders WHERE id = 'o-50'")
    assert tuple(row) == (3000, 5000, 2000)
    assert await services.pool.fetchval(
        "SELECT status FROM coupons WHERE code = $1", code) == "redeemed"
    # One cent short of the minimum spend is refused, with the coupon's own code.
    other = await _coupon(factory, shop, member, min_spend=5000)
    assert _error(await _order(client, shop, id="o-49", member_id=member.id, subtotal=4999,
                               coupon_codes=[other])) == (409, "coupon_min_spend_not_met")


@pytest.mark.parametrize("subtotal, percent, discount", [
    (12_345, 15, 1851),   # 1,851.75 rounds down: never more off than the terms say
    (10_000, 20, 2000),   # 八折 of ¥100
    (99, 50, 49),
    (1, 99, 0),
])
async def test_percent_off_rounds_down_to_the_cent(client: httpx.AsyncClient,
                                                  factory: Factory, subtotal: int,
                                                  percent: int, discount: int) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    code = await _coupon(factory, shop, member,
                         discount={"type": "percent_off", "percent": percent})
    r = await _order(client, shop, id="o", member_id=member.id, subtotal=subtotal,
                     coupon_codes=[code])
    assert r.status_code == 201, r.text
    assert (r.json()["discount"], r.json()["amount"]) == (discount, subtotal - discount)


async def test_amount_off_is_capped_at_the_subtotal_and_a_gift_takes_nothing_off(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    big = await _coupon(factory, shop, member, discount={"type": "amount_off", "amount": 1000})
    r = await _order(client, shop, id="small", member_id=member.id, subtotal=800,
                     coupon_codes=[big])
    assert r.status_code == 201, r.text
    assert (r.json()["discount"], r.json()["amount"]) == (800, 0)
    gift = await _coupon(factory, shop, member,
                         discount={"type": "gift", "description": "一杯美式"})
    r = await _order(client, shop, id="gift", member_id=member.id, subtotal=2500,
                     coupon_codes=[gift])
    assert r.status_code == 201, r.text
    assert (r.json()["discount"], r.json()["amount"]) == (0, 2500)
    assert r.json()["coupons"] == [{"code": gift, "discount": 0}]


async def test_one_coupon_per_order_unless_every_one_is_stackable(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    plain = await _coupon(factory, shop, member)
    stack_a = await _coupon(factory, shop, member, stackable=True,
                            discount={"type": "amount_off", "amount": 3000})
    stack_b = await _coupon(factory, shop, member, stackable=True,
                            discount={"type": "amount_off", "amount": 3000})
    # A plain coupon with a stackable one is refused, and nothing is redeemed.
    assert _error(await _order(client, shop, id="mix", member_id=member.id, subtotal=9000,
                               coupon_codes=[plain, stack_a])) == (409, "coupons_not_stackable")
    assert await services.pool.fetchval(
        "SELECT count(*) FROM coupons WHERE status = 'redeemed'") == 0
    # Two stackable ones go together; together they never take off more than the subtotal.
    r = await _order(client, shop, id="stack", member_id=member.id, subtotal=5000,
                     coupon_codes=[stack_b, stack_a])
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["discount"], body["amount"]) == (5000, 0)
    first, second = sorted([stack_a, stack_b])
    assert body["coupons"] == [{"code": first, "discount": 3000},
                               {"code": second, "discount": 2000}]


async def test_an_amount_that_is_not_subtotal_less_discount_is_refused(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    code = await _coupon(factory, shop, member, discount={"type": "amount_off", "amount": 2000})
    r = await _order(client, shop, id="o", member_id=member.id, subtotal=5000, amount=5000,
                     coupon_codes=[code])
    assert _error(r) == (422, "amount_mismatch")
    assert r.json()["error"]["details"]["expected"] == 3000
    assert await services.pool.fetchval("SELECT count(*) FROM orders") == 0
    assert await services.pool.fetchval(
        "SELECT status FROM coupons WHERE code = $1", code) == "issued"
    # Sent and right, it is accepted.
    r = await _order(client, shop, id="o", member_id=member.id, subtotal=5000, amount=3000,
                     coupon_codes=[code])
    assert r.status_code == 201 and r.json()["amount"] == 3000


async def test_points_and_commission_are_computed_on_the_amount_paid(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await set_program(client, shop, earn={"per_amount": 100, "points": 1})
    await program(factory, shop, levels=[{"rate_bp": 1000}], hold_days=0)
    sharer = await factory.member(shop)
    friend = await join(factory, shop, await share_code(factory, sharer))
    code = await _coupon(factory, shop, friend, discount={"type": "amount_off", "amount": 2000})
    r = await _order(client, shop, id="o", member_id=friend.id, subtotal=12_850,
                     coupon_codes=[code])
    assert r.status_code == 201 and r.json()["amount"] == 10_850
    assert await services.pool.fetchval(
        "SELECT delta FROM points_ledger WHERE ref = 'order:o'") == 108
    assert await services.pool.fetchval(
        "SELECT amount FROM commission_entries WHERE order_id = 'o'") == 1085


async def test_a_quote_prices_like_the_order_and_changes_nothing(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await set_program(client, shop, earn={"per_amount": 100, "points": 1})
    await program(factory, shop, levels=[{"rate_bp": 1000}], hold_days=0)
    sharer = await factory.member(shop)
    member = await join(factory, shop, await share_code(factory, sharer))
    code = await _coupon(factory, shop, member, min_spend=5000,
                         discount={"type": "percent_off", "percent": 20})
    before = await services.pool.fetchval(
        "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM points_ledger)"
        " + (SELECT count(*) FROM commission_entries)")
    r = await _quote(client, shop, member_id=member.id, subtotal=12_850, coupon_codes=[code])
    assert r.status_code == 200, r.text
    assert r.json() == {"subtotal": 12_850, "discount": 2570, "amount": 10_280,
                        "coupons": [{"code": code, "discount": 2570}], "member_discount": 0,
                        "paid_with_balance": 0}
    # The refusals are the order's own.
    assert _error(await _quote(client, shop, member_id=member.id, subtotal=4999,
                               coupon_codes=[code])) == (409, "coupon_min_spend_not_met")
    assert _error(await _quote(client, shop, member_id=member.id, subtotal=12_850,
                               amount=1, coupon_codes=[code])) == (422, "amount_mismatch")
    after = await services.pool.fetchval(
        "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM points_ledger)"
        " + (SELECT count(*) FROM commission_entries)")
    assert after == before
    coupon = await services.pool.fetchrow(
        "SELECT c.status, t.redeemed FROM coupons c JOIN coupon_templates t"
        " ON t.id = c.template_id WHERE c.code = $1", code)
    assert tuple(coupon) == ("issued", 0)
    # And the order then charges what the quote said.
    r = await _order(client, shop, id="o", member_id=member.id, subtotal=12_850,
                     coupon_codes=[code])
    assert r.status_code == 201 and r.json()["amount"] == 10_280


async def test_someone_elses_or_a_used_coupon_is_refused_in_words_a_cashier_reads(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    owner, other = await factory.member(shop), await factory.member(shop)
    code = await _coupon(factory, shop, owner)
    assert _error(await _quote(client, shop, member_id=other.id, subtotal=9000,
                               coupon_codes=[code])) == (409, "coupon_not_owned")
    assert (await _order(client, shop, id="o1", member_id=owner.id, subtotal=9000,
                         coupon_codes=[code])).status_code == 201
    assert _error(await _quote(client, shop, member_id=owner.id, subtotal=9000,
                               coupon_codes=[code])) == (409, "coupon_already_redeemed")


async def test_the_same_coupon_in_twenty_simultaneous_orders_is_used_once(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    code = await _coupon(factory, shop, member, discount={"type": "amount_off", "amount": 500})
    responses = await asyncio.gather(*[
        _order(client, shop, id=f"race-{i}", member_id=member.id, subtotal=3000,
               coupon_codes=[code]) for i in range(20)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [r.text for r in responses]
    assert {_error(r) for r in responses if r.status_code == 409} == {
        (409, "coupon_already_redeemed")}
    assert await services.pool.fetchval("SELECT count(*) FROM orders") == 1
    assert await services.pool.fetchval("SELECT redeemed FROM coupon_templates") == 1


async def test_old_orders_without_a_subtotal_keep_their_meaning(
        client: httpx.AsyncClient, factory: Factory) -> None:
    """Without subtotal nothing changes: amount is what was paid, the minimum spend is
    checked against it, and the response only adds fields."""
    shop = await factory.merchant()
    member = await factory.member(shop)
    code = await _coupon(factory, shop, member, min_spend=5000)
    assert _error(await _order(client, shop, id="o", member_id=member.id, amount=3000,
                               coupon_codes=[code])) == (409, "coupon_min_spend_not_met")
    r = await _order(client, shop, id="o", member_id=member.id, amount=5000,
                     coupon_codes=[code])
    assert r.status_code == 201
    body = r.json()
    assert (body["amount"], body["subtotal"], body["discount"]) == (5000, None, 0)
    assert body["coupon_codes"] == [code]


async def test_a_store_of_another_merchant_is_unknown(client: httpx.AsyncClient,
                                                     factory: Factory) -> None:
    shop, rival = await factory.merchant(), await factory.merchant("Rival")
    member = await factory.member(shop)
    theirs = await client.post("/api/v1/stores", json={"name": "对手店"},
                               headers=rival.headers)
    ours = await client.post("/api/v1/stores", json={"name": "人民路店"}, headers=shop.headers)
    assert theirs.status_code == ours.status_code == 201
    assert _error(await _order(client, shop, id="o", member_id=member.id, subtotal=100,
                               store_id=theirs.json()["id"])) == (422, "unknown_store")
    r = await _order(client, shop, id="o", member_id=member.id, subtotal=100,
                     store_id=ours.json()["id"])
    assert r.status_code == 201 and r.json()["store_id"] == ours.json()["id"]
    listed = await client.get("/api/v1/stores", headers=shop.headers)
    assert [s["name"] for s in listed.json()["items"]] == ["人民路店"]
    again = await client.post("/api/v1/stores", json={"name": "人民路店"}, headers=shop.headers)
    assert _error(again) == (409, "store_name_taken")
