"""Small builders for test data, going through the same services and API as real callers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from engagement.db import transaction
from engagement.merchants.schemas import MerchantCreate
from engagement.merchants.service import create_merchant
from engagement.state import Services


@dataclass
class MerchantHandle:
    id: str
    slug: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@dataclass
class MemberHandle:
    id: str
    token: str
    merchant: MerchantHandle

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    def __init__(self, client: httpx.AsyncClient, services: Services) -> None:
        self.client = client
        self.services = services
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    async def merchant(self, name: str = "Test Shop", **kw: Any) -> MerchantHandle:
        async with transaction(self.services.pool) as conn:
            merchant, key = await create_merchant(conn, MerchantCreate(name=name, **kw))
        return MerchantHandle(merchant.id, merchant.slug, key)

    async def member(self, merchant: MerchantHandle, **body: Any) -> MemberHandle:
        body.setdefault("external_id", f"ext-{self._next()}")
        r = await self.client.post("/api/v1/members", json=body, headers=merchant.headers)
        assert r.status_code == 201, r.text
        member_id = r.json()["id"]
        t = await self.client.post(f"/api/v1/members/{member_id}/tokens",
                                   headers=merchant.headers)
        assert t.status_code == 201, t.text
        return MemberHandle(member_id, t.json()["token"], merchant)
