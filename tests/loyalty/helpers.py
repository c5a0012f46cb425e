from __future__ import annotations

from typing import Any

import httpx

from tests.factories import MemberHandle, MerchantHandle


async def set_program(client: httpx.AsyncClient, merchant: MerchantHandle,
                      **body: Any) -> dict[str, Any]:
    body.setdefault("earn", {"per_amount": 100, "points": 1})
    body.setdefault("join_bonus", 0)  # required by the contract, as is expiry_days
    body.setdefault("expiry_days", None)
    r = await client.put("/api/v1/points-program", json=body, headers=merchant.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def pay(client: httpx.AsyncClient, member: MemberHandle, order_id: str,
              amount: int) -> None:
    r = await client.post("/api/v1/orders", json={"id": order_id, "member_id": member.id,
                                                  "amount": amount},
                          headers=member.merchant.headers)
    assert r.status_code == 201, r.text


async def points(client: httpx.AsyncClient, member: MemberHandle) -> dict[str, Any]:
    r = await client.get(f"/api/v1/members/{member.id}/points", headers=member.merchant.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def adjust(client: httpx.AsyncClient, member: MemberHandle, delta: int,
                 key: str | None = None, reason: str = "goodwill") -> httpx.Response:
    headers = dict(member.merchant.headers)
    if key:
        headers["Idempotency-Key"] = key
    return await client.post(f"/api/v1/members/{member.id}/points",
                             json={"delta": delta, "reason": reason}, headers=headers)
