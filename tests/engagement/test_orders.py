"""Orders and refunds: idempotent by the merchant's id, coupons checked and redeemed in the
same transaction, refunds never above what was paid, bad input changing nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from engagement.coupons import service as coupons
from engagement.kit.clock import FrozenClock
from engagement.kit.db import transaction
from engagement.kit.state import Services
from tests.factories import Factory, MemberHandle, MerchantHandle


async def _coupon(factory: Factory, shop: MerchantHandle, member: MemberHandle,
                  **template: Any) -> str:
    """A coupon issued to the member, the way a share link or a campaign would."""
    tpl = await factory.template(shop, **template)
    async with transaction(factory.services.pool) as conn:
        row = await coupons.issue_single(conn, shop.id, tpl["id"], member.id, source="test",
                                         now=factory.services.clock.now())
    return str(row["code"])


async def _order(client: httpx.AsyncClient, shop: MerchantHandle,
                 **body: Any) -> httpx.Response:
    return await client.post("/api/v1/orders", json=body, headers=shop.headers)


async def test_order_is_idempotent_by_merchant_id(client: httpx.AsyncClient,
                                                  factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    body = {"id": "POS-2026-0001", "member_id": member.id, "amount": 12_345}
    first = await _order(client, shop, **body)
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["id"] == "POS-2026-0001" and created["amount"] == 12_345
    assert created["refunded"] == 0 and created["coupon_codes"] == []
    again = await _order(client, shop, **body)
    assert again.status_code == 200 and again.json() == created
    conflict = await _order(client, shop, **{**body, "amount": 1})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "order_conflict"
    fetched = await client.get("/api/v1/orders/POS-2026-0001", headers=shop.headers)
    assert fetched.status_code == 200 and fetched.json() == created
    # Another merchant's order ids are its own.
    other = await factory.merchant("Other")
    assert (await client.get("/api/v1/orders/POS-2026-0001",
                             headers=other.headers)).status_code == 404
    stranger = await factory.member(other)
    r = await _order(client, other, id="POS-2026-0001", member_id=stranger.id, amount=5)
    assert r.status_code == 201


async def test_concurrent_duplicates_make_one_order(client: httpx.AsyncClient,
                                                    factory: Factory,
                                                    services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    code = await _coupon(factory, shop, member)
    body = {"id": "dup", "member_id": member.id, "amount": 9900, "coupon_codes": [code]}
    responses = await asyncio.gather(*[_order(client, shop, **body) for _ in range(30)])
    assert sorted(r.status_code for r in responses) == [200] * 29 + [201]
    assert len({r.text for r in responses}) == 1
    assert await services.pool.fetchval("SELECT count(*) FROM orders") == 1
    assert await services.pool.fetchval(
        "SELECT count(*) FROM coupons WHERE status = 'redeemed' AND order_id = 'dup'") == 1


@pytest.mark.parametrize("body, field", [
    ({"member_id": "m", "amount": 1}, "id"),
    ({"id": "has space", "member_id": "m", "amount": 1}, "id"),
    ({"id": "a/b", "member_id": "m", "amount": 1}, "id"),
    ({"id": "o", "member_id": "m", "amount": -1}, "amount"),
    ({"id": "o", "member_id": "m", "amount": 10.5}, "amount"),
    ({"id": "o", "member_id": "m", "amount": "100"}, "amount"),
    ({"id": "o", "member_id": "m", "amount": 1, "coupon_codes": ["A", "a"]}, "coupon_codes"),
    ({"id": "o", "member_id": "m", "amount": 1, "extra": True}, "extra"),
])
async def test_bad_order_is_422_and_changes_nothing(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        body: dict[str, Any], field: str) -> None:
    shop = await factory.merchant()
    r = await _order(client, shop, **body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"
    assert field in {f["field"] for f in r.json()["error"]["details"]["fields"]}
    assert await services.pool.fetchval("SELECT count(*) FROM orders") == 0


async def test_order_for_unknown_or_foreign_member_is_422(client: httpx.AsyncClient,
                                                          factory: Factory) -> None:
    shop, other = await factory.merchant(), await factory.merchant("Other")
    stranger = await factory.member(other)
    for member_id in ("mbr_nope", stranger.id):
        r = await _order(client, shop, id="o1", member_id=member_id, amount=100)
        assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_member"


async def test_coupons_are_checked_then_redeemed_with_the_order(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    shop = await factory.merchant()
    owner, other = await factory.member(shop), await factory.member(shop)
    code = await _coupon(factory, shop, owner, min_spend=5000)

    async def attempt(order_id: str, member: MemberHandle, amount: int,
                      codes: list[str]) -> tuple[int, str]:
        r = await _order(client, shop, id=order_id, member_id=member.id, amount=amount,
                         coupon_codes=codes)
        return r.status_code, r.json().get("error", {}).get("code", "")

    assert await attempt("o1", other, 9000, [code]) == (409, "coupon_not_owned")
    assert await attempt("o2", owner, 4999, [code]) == (409, "coupon_min_spend_not_met")
    assert await attempt("o3", owner, 9000, ["NOSUCHCODE"]) == (422, "unknown_coupon")
    # A failed order leaves nothing behind: no order row, the coupon still usable.
    assert await services.pool.fetchval("SELECT count(*) FROM orders") == 0
    assert await attempt("o4", owner, 5000, [code.lower()]) == (201, "")
    assert await attempt("o5", owner, 5000, [code]) == (409, "coupon_already_redeemed")
    template = await services.pool.fetchrow(
        "SELECT issued, redeemed FROM coupon_templates t JOIN coupons c ON c.template_id = t.id"
        " WHERE c.code = $1", code)
    assert tuple(template) == (1, 1)

    late = await _coupon(factory, shop, owner, valid_days=3)
    clock.advance(days=3)
    assert await attempt("o6", owner, 5000, [late]) == (409, "coupon_expired")


async def test_refunds_add_up_to_at_most_the_paid_amount(client: httpx.AsyncClient,
                                                         factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    assert (await _order(client, shop, id="o", member_id=member.id,
                         amount=10_000)).status_code == 201

    async def refund(amount: Any, **extra: Any) -> httpx.Response:
        return await client.post("/api/v1/orders/o/refunds", json={"amount": amount, **extra},
                                 headers=shop.headers)

    first = await refund(3000)
    assert first.status_code == 201
    assert first.json()["refunded_total"] == 3000 and first.json()["order_id"] == "o"
    assert (await refund(7000)).json()["refunded_total"] == 10_000
    over = await refund(1)
    assert over.status_code == 409 and over.json()["error"]["code"] == "refund_exceeds_paid"
    for bad in (0, -5, 1.5, "10"):
        assert (await refund(bad)).status_code == 422
    missing = await client.post("/api/v1/orders/nope/refunds", json={"amount": 1},
                                headers=shop.headers)
    assert missing.status_code == 404
    order = (await client.get("/api/v1/orders/o", headers=shop.headers)).json()
    assert order["refunded"] == 10_000


async def test_refund_retries_are_replays(client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    await _order(client, shop, id="o", member_id=member.id, amount=10_000)
    url = "/api/v1/orders/o/refunds"
    first = await client.post(url, json={"id": "r-1", "amount": 2000}, headers=shop.headers)
    again = await client.post(url, json={"id": "r-1", "amount": 2000}, headers=shop.headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    clash = await client.post(url, json={"id": "r-1", "amount": 2500}, headers=shop.headers)
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "refund_conflict"
    keyed = {**shop.headers, "Idempotency-Key": "k-1"}
    one = await client.post(url, json={"amount": 1000}, headers=keyed)
    two = await client.post(url, json={"amount": 1000}, headers=keyed)
    assert one.status_code == two.status_code == 201 and one.json() == two.json()
    reused = await client.post(url, json={"amount": 999}, headers=keyed)
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    order = (await client.get("/api/v1/orders/o", headers=shop.headers)).json()
    assert order["refunded"] == 3000


async def test_concurrent_refunds_never_exceed_paid(client: httpx.AsyncClient,
                                                    factory: Factory,
                                                    services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    await _order(client, shop, id="o", member_id=member.id, amount=10_000)
    responses = await asyncio.gather(*[
        client.post("/api/v1/orders/o/refunds", json={"amount": 700}, headers=shop.headers)
        for _ in range(30)])
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 14 and statuses.count(409) == 16
    assert await services.pool.fetchval("SELECT refunded FROM orders") == 9800
    assert await services.pool.fetchval("SELECT sum(amount) FROM order_refunds") == 9800


async def test_orders_are_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "post" in paths["/api/v1/orders"]
    assert "get" in paths["/api/v1/orders/{order_id}"]
    assert "post" in paths["/api/v1/orders/{order_id}/refunds"]
