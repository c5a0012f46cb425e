"""After the till: refunds that give coupons back, guest orders that become a member's
once (支付即会员), and coupons given by hand (手动发券)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from tests.engagement.test_orders import _coupon, _order
from tests.factories import Factory, MerchantHandle
from tests.loyalty.helpers import set_program


async def _refund(client: httpx.AsyncClient, shop: MerchantHandle, order_id: str,
                  amount: int, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/orders/{order_id}/refunds",
                             json={"amount": amount, **body}, headers=shop.headers)


async def _status(services: Services, code: str) -> tuple[str, str | None]:
    row = await services.pool.fetchrow("SELECT status, order_id FROM coupons WHERE code = $1",
                                       code)
    return row["status"], row["order_id"]


async def test_a_whole_refund_gives_the_coupons_back_and_a_partial_one_does_not(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    code = await _coupon(factory, shop, member, discount={"type": "amount_off", "amount": 2000})
    assert (await _order(client, shop, id="o", member_id=member.id, subtotal=10_000,
                         coupon_codes=[code])).status_code == 201
    part = await _refund(client, shop, "o", 3000)
    assert part.status_code == 201 and part.json()["coupons_returned"] == []
    assert await _status(services, code) == ("redeemed", "o")
    rest = await _refund(client, shop, "o", 5000)
    assert rest.status_code == 201, rest.text
    assert rest.json()["refunded_total"] == 8000 and rest.json()["coupons_returned"] == [code]
    assert await _status(services, code) == ("issued", None)
    assert await services.pool.fetchval("SELECT redeemed FROM coupon_templates") == 0
    # The member holds it again and can use it on the next order.
    mine = await client.get("/api/v1/me/coupons", headers=member.headers)
    assert [c["status"] for c in mine.json()["items"]] == ["issued"]
    again = await _order(client, shop, id="o2", member_id=member.id, subtotal=4000,
                         coupon_codes=[code])
    assert again.status_code == 201 and again.json()["amount"] == 2000


async def test_a_coupon_expired_by_the_time_of_the_refund_stays_used(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    code = await _coupon(factory, shop, member, valid_days=2)
    assert (await _order(client, shop, id="o", member_id=member.id, subtotal=6000,
                         coupon_codes=[code])).status_code == 201
    clock.advance(days=3)
    r = await _refund(client, shop, "o", 5000)
    assert r.status_code == 201 and r.json()["coupons_returned"] == []
    assert await _status(services, code) == ("redeemed", "o")


async def test_twenty_simultaneous_refunds_never_exceed_the_amount_paid(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    code = await _coupon(factory, shop, member, discount={"type": "amount_off", "amount": 1000})
    assert (await _order(client, shop, id="o", member_id=member.id, subtotal=6000,
                         coupon_codes=[code])).status_code == 201  # 5,000 paid
    responses = await asyncio.gather(*[_refund(client, shop, "o", 700) for _ in range(20)])
    ok = [r for r in responses if r.status_code == 201]
    assert len(ok) == 7  # 7 × 700 = 4,900 ≤ 5,000 < 8 × 700
    assert {r.json()["error"]["code"] for r in responses if r.status_code != 201} == {
        "refund_exceeds_paid"}
    assert await services.pool.fetchval("SELECT refunded FROM orders") == 4900
    assert await _status(services, code) == ("redeemed", "o")
    # The last 100 brings it to the whole amount, once, whatever the concurrency.
    last = await asyncio.gather(*[_refund(client, shop, "o", 100) for _ in range(10)])
    assert sorted(r.status_code for r in last) == [201] + [409] * 9
    assert [r.json()["coupons_returned"] for r in last if r.status_code == 201] == [[code]]
    assert await _status(services, code) == ("issued", None)


async def _join_by_api(client: httpx.AsyncClient, shop: MerchantHandle, phone: str,
                       external_id: str) -> httpx.Response:
    return await client.post("/api/v1/members", headers=shop.headers,
                             json={"external_id": external_id, "phone": phone})


async def test_a_guest_order_becomes_the_members_once_even_when_joins_race(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await set_program(client, shop, earn={"per_amount": 100, "points": 1})
    r = await _order(client, shop, id="guest-1", phone="138 0013 8000", subtotal=12_850)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["member_id"] is None and body["amount"] == 12_850
    assert body["join_url"].endswith(f"/j/{shop.slug}?next=/m")
    assert await services.pool.fetchval(
        "SELECT guest_phone FROM orders WHERE id = 'guest-1'") == "13800138000"
    assert await services.pool.fetchval("SELECT count(*) FROM points_ledger") == 0
    # The same person joins twice at the same moment (a double tap, two devices): ten
    # creations at once, under one external id and under others with the same phone.
    joins = await asyncio.gather(*[
        _join_by_api(client, shop, "13800138000", "phone:13800138000" if i % 2 else f"pos-{i}")
        for i in range(10)])
    created = [j for j in joins if j.status_code == 201]
    assert len(created) == 1, [j.text for j in joins]
    member_id = created[0].json()["id"]
    assert await services.pool.fetchval(
        "SELECT member_id FROM orders WHERE id = 'guest-1'") == member_id
    entries = await services.pool.fetch(
        "SELECT delta, ref FROM points_ledger WHERE member_id = $1", member_id)
    assert [(e["delta"], e["ref"]) for e in entries] == [(128, "order:guest-1")]
    fetched = await client.get("/api/v1/orders/guest-1", headers=shop.headers)
    assert fetched.json()["member_id"] == member_id


async def test_a_guest_order_waits_thirty_days_and_a_members_phone_is_no_guest(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    known = await factory.member(shop, phone="13900000001")
    r = await _order(client, shop, id="known", phone="13900000001", subtotal=1000)
    assert r.status_code == 201 and r.json()["member_id"] == known.id
    assert r.json()["join_url"] is None
    assert (await _order(client, shop, id="late", phone="13700000002",
                         subtotal=1000)).status_code == 201
    # Members are stamped by PostgreSQL's clock: the order is made a month old instead.
    await services.pool.execute(
        "UPDATE orders SET created_at = created_at - interval '31 days' WHERE id = 'late'")
    joined = await _join_by_api(client, shop, "13700000002", "late-joiner")
    assert joined.status_code == 201
    assert await services.pool.fetchval("SELECT member_id FROM orders WHERE id = 'late'") \
        is None


@pytest.mark.parametrize("body", [
    {"id": "o", "subtotal": 100},                                        # no buyer
    {"id": "o", "member_id": "m", "phone": "13800138000", "amount": 1},  # two buyers
    {"id": "o", "phone": "12345", "amount": 1},                          # not a mobile
    {"id": "o", "member_id": "m"},                                       # no money
])
async def test_a_bad_buyer_or_no_money_is_422(client: httpx.AsyncClient, factory: Factory,
                                               services: Services,
                                               body: dict[str, Any]) -> None:
    shop = await factory.merchant()
    r = await _order(client, shop, **body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", r.text
    assert await services.pool.fetchval("SELECT count(*) FROM orders") == 0


async def test_a_guest_cannot_use_a_members_coupon(client: httpx.AsyncClient,
                                                   factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    code = await _coupon(factory, shop, member)
    r = await _order(client, shop, id="g", phone="13600000003", subtotal=9000,
                     coupon_codes=[code])
    assert r.status_code == 409 and r.json()["error"]["code"] == "coupon_not_owned"


async def _give(client: httpx.AsyncClient, shop: MerchantHandle, member_id: str,
                template_id: str, key: str | None = None) -> httpx.Response:
    headers = {**shop.headers, **({"Idempotency-Key": key} if key else {})}
    return await client.post(f"/api/v1/members/{member_id}/coupons", headers=headers,
                             json={"coupon_template_id": template_id})


async def test_coupons_given_by_hand_honour_stock_and_the_per_member_limit(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    limited = await factory.template(shop, stock=100, per_member_limit=2)
    # Twenty at once, the limit still holds.
    results = await asyncio.gather(*[_give(client, shop, member.id, limited["id"])
                                     for _ in range(20)])
    assert sorted(r.status_code for r in results) == [201] * 2 + [409] * 18
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {
        "coupon_limit_reached"}
    given = next(r.json() for r in results if r.status_code == 201)
    assert given["source"] == "manual" and given["status"] == "issued"
    scarce = await factory.template(shop, stock=1)
    assert (await _give(client, shop, member.id, scarce["id"])).status_code == 201
    out = await _give(client, shop, member.id, scarce["id"])
    assert out.status_code == 409 and out.json()["error"]["code"] == "out_of_stock"
    # An Idempotency-Key replays the first coupon instead of giving a second one.
    plenty = await factory.template(shop, stock=None)
    first = await _give(client, shop, member.id, plenty["id"], key="k-1")
    second = await _give(client, shop, member.id, plenty["id"], key="k-1")
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert await services.pool.fetchval(
        "SELECT count(*) FROM coupons WHERE template_id = $1", plenty["id"]) == 1
    unknown = await _give(client, shop, member.id, "tpl_nope")
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_coupon_template"
    assert (await _give(client, shop, "mbr_nope", plenty["id"])).status_code == 404


async def test_a_guest_who_taps_join_twice_at_once_earns_the_order_once(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        caplog: pytest.LogCaptureFixture) -> None:
    """Through the join page the till's QR code leads to: two submits of the same code at
    the same moment."""
    from tests.engagement.test_join import _open, _send, _sent_code

    caplog.set_level(logging.WARNING, logger="engagement.loyalty.join.senders")
    shop = await factory.merchant()
    await set_program(client, shop, earn={"per_amount": 100, "points": 1})
    assert (await _order(client, shop, id="guest", phone="13800138000",
                         subtotal=5000)).status_code == 201
    token = await _open(client, shop)
    assert (await _send(client, shop, token)).status_code == 202
    form = {"phone": "13800138000", "code": _sent_code(caplog), "csrf_token": token}
    results = await asyncio.gather(*[client.post(f"/j/{shop.slug}", data=form)
                                     for _ in range(2)])
    assert 303 in [r.status_code for r in results], [r.text for r in results]
    member_id = await services.pool.fetchval(
        "SELECT id FROM members WHERE phone = '13800138000'")
    assert await services.pool.fetchval(
        "SELECT member_id FROM orders WHERE id = 'guest'") == member_id
    assert await services.pool.fetchval(
        "SELECT array_agg(delta) FROM points_ledger WHERE member_id = $1", member_id) == [50]
