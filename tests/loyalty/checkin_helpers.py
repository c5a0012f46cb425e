from __future__ import annotations

from typing import Any

import httpx

from tests.factories import MemberHandle, MerchantHandle

WEEK = [{"day": 1, "points": 5}, {"day": 2, "points": 5}, {"day": 3, "points": 10},
        {"day": 4, "points": 5}, {"day": 5, "points": 5}, {"day": 6, "points": 10},
        {"day": 7, "points": 20, "draws": 1}]


async def set_check_in(client: httpx.AsyncClient, merchant: MerchantHandle,
                       rewards: list[dict[str, Any]] | None = None,
                       enabled: bool = True) -> dict[str, Any]:
    r = await client.put("/api/v1/check-in-program", headers=merchant.headers,
                         json={"enabled": enabled, "rewards": WEEK if rewards is None
                               else rewards})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def check_in(client: httpx.AsyncClient, member: MemberHandle,
                   key: str | None = None) -> httpx.Response:
    headers = dict(member.headers)
    if key:
        headers["Idempotency-Key"] = key
    return await client.post("/api/v1/me/check-ins", headers=headers)


async def check_in_status(client: httpx.AsyncClient, member: MemberHandle) -> dict[str, Any]:
    r = await client.get("/api/v1/me/check-ins", headers=member.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())
