"""Orders taken at stores by members of staff, for the console's order pages, the till
summary and the exports: stores through POST /api/v1/stores, orders through
POST /api/v1/orders, coupons issued as a till would see them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engagement.coupons.service import issue_single
from engagement.kit.db import transaction
from tests.factories import Factory, MerchantHandle


@dataclass
class Placed:
    id: str
    amount: int
    discount: int
    coupons: list[str]
    body: dict[str, Any]


async def store(factory: Factory, merchant: MerchantHandle, name: str) -> str:
    r = await factory.client.post("/api/v1/stores", json={"name": name},
                                  headers=merchant.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def coupon(factory: Factory, merchant: MerchantHandle, template_id: str,
                 member_id: str) -> str:
    async with transaction(factory.services.pool) as conn:
        row = await issue_single(conn, merchant.id, template_id, member_id, source="manual",
                                 now=factory.services.clock.now())
    return str(row["code"])


async def points_program(factory: Factory, merchant: MerchantHandle, per_amount: int = 100,
                         points: int = 1) -> None:
    r = await factory.client.put("/api/v1/points-program", headers=merchant.headers, json={
        "earn": {"per_amount": per_amount, "points": points}, "join_bonus": 0,
        "expiry_days": None})
    assert r.status_code == 200, r.text


async def order(factory: Factory, merchant: MerchantHandle, order_id: str, *,
                member_id: str, subtotal: int, coupons: tuple[tuple[str, int], ...] = (),
                store_id: str | None = None, staff_id: str | None = None) -> Placed:
    """An order of ``subtotal`` cents with coupons (code, the discount each gives), taken at
    ``store_id`` by ``staff_id`` (None: sent by a POS with the merchant's key)."""
    discount = sum(d for _, d in coupons)
    codes = [c for c, _ in coupons]
    body: dict[str, Any] = {"id": order_id, "member_id": member_id,
                            "amount": subtotal - discount, "coupon_codes": codes}
    r = await factory.client.post("/api/v1/orders", json=body, headers=merchant.headers)
    assert r.status_code == 201, r.text
    # Where and by whom: what the till's priced orders record (orders.store_id, staff_id,
    # subtotal, discount; order_coupons; coupons.store_id).
    async with transaction(factory.services.pool) as conn:
        await conn.execute(
            """UPDATE orders SET store_id = $3, staff_id = $4, subtotal = $5, discount = $6
               WHERE merchant_id = $1 AND id = $2""",
            merchant.id, order_id, store_id, staff_id, subtotal, discount)
        for code, off in coupons:
            await conn.execute(
                """INSERT INTO order_coupons (merchant_id, order_id, code, coupon_id, discount)
                   SELECT $1, $2, $3, id, $4 FROM coupons WHERE merchant_id = $1 AND code = $3""",
                merchant.id, order_id, code, off)
            await conn.execute(
                "UPDATE coupons SET store_id = $3 WHERE merchant_id = $1 AND code = $2",
                merchant.id, code, store_id)
    return Placed(order_id, subtotal - discount, discount, codes, body)


async def refund(factory: Factory, merchant: MerchantHandle, order_id: str,
                 amount: int) -> dict[str, Any]:
    r = await factory.client.post(f"/api/v1/orders/{order_id}/refunds", json={"amount": amount},
                                  headers=merchant.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())
