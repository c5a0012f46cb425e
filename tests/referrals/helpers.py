"""Builders for referral tests: a program, share links, joining through a link."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Factory, MemberHandle, MerchantHandle
from tests.worker import drain  # noqa: F401  (re-exported for the referral tests)


async def program(factory: Factory, shop: MerchantHandle, **body: Any) -> dict[str, Any]:
    """PUT the program: the contract's fields are required, so unset ones get defaults."""
    body = {"enabled": True, "levels": [{"rate_bp": 1000}, {"rate_bp": 500}],
            "trigger": "every_order", "hold_days": 7, **body}
    r = await factory.client.put("/api/v1/referral-program", json=body, headers=shop.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def share_code(factory: Factory, member: MemberHandle, **body: Any) -> str:
    r = await factory.client.post("/api/v1/me/share-links", json=body, headers=member.headers)
    assert r.status_code in (200, 201), r.text
    return str(r.json()["code"])


async def join(factory: Factory, shop: MerchantHandle, code: str, **body: Any) -> MemberHandle:
    """A new member created over the API with a share code (bound at creation)."""
    return await factory.member(shop, share_code=code, **body)


async def order(client: httpx.AsyncClient, shop: MerchantHandle, order_id: str, member_id: str,
                amount: int, coupon_codes: list[str] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"id": order_id, "member_id": member_id, "amount": amount}
    if coupon_codes is not None:
        body["coupon_codes"] = coupon_codes
    return await client.post("/api/v1/orders", json=body, headers=shop.headers)


async def refund(client: httpx.AsyncClient, shop: MerchantHandle, order_id: str,
                 amount: int, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/orders/{order_id}/refunds",
                             json={"amount": amount, **body}, headers=shop.headers)


async def commissions(client: httpx.AsyncClient, shop: MerchantHandle,
                      member_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/members/{member_id}/commissions?limit=200",
                         headers=shop.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def balance_from_items(items: list[dict[str, Any]]) -> dict[str, int]:
    """Balances recomputed from the entries alone: a reversal counts where its accrual
    stands (pending or available), the way referrals.ledger documents. Withdrawals are not
    commission entries: for a member who made none, requested and paid are zero."""
    accruals = {(i["order_id"], i["level"]): i["status"] for i in items if i["kind"] == "accrual"}
    out = {"pending": 0, "available": 0, "held": 0, "reversed": 0, "requested": 0, "paid": 0}
    for item in items:
        state = accruals[(item["order_id"], item["level"])]
        if state in out:
            out[state] += item["amount"]
        if item["kind"] != "accrual" and state != "rejected":
            out["reversed"] -= item["amount"]
    return out
