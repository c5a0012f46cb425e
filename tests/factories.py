"""Small builders for test data, going through the same services and API as real callers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from engagement.kit.db import transaction
from engagement.kit.state import Services
from engagement.merchants.schemas import MerchantCreate
from engagement.merchants.service import create_merchant


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


    async def members_bulk(self, merchant: MerchantHandle, n: int) -> list[MemberHandle]:
        """Many members at once, through the same services the API uses."""
        from datetime import timedelta

        from engagement.members import service as members
        from engagement.members.schemas import MemberCreate

        out = []
        async with transaction(self.services.pool) as conn:
            for _ in range(n):
                member, _ = await members.create_or_get_member(
                    conn, merchant.id, MemberCreate(external_id=f"bulk-{self._next()}"))
                token = await members.issue_token(
                    conn, merchant_id=merchant.id, member_id=member.id,
                    now=self.services.clock.now(), ttl=timedelta(days=30),
                    public_url="http://testserver")
                out.append(MemberHandle(member.id, token.token, merchant))
        return out

    async def template(self, merchant: MerchantHandle, **body: Any) -> dict[str, Any]:
        body.setdefault("name", "满50减10")
        body.setdefault("discount", {"type": "amount_off", "amount": 1000})
        body.setdefault("stock", 100)
        r = await self.client.post("/api/v1/coupon-templates", json=body,
                                   headers=merchant.headers)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def campaign(self, merchant: MerchantHandle, prizes: list[dict[str, Any]], *,
                       publish: bool = True, **body: Any) -> dict[str, Any]:
        body.setdefault("name", "幸运大转盘")
        body.setdefault("game", "wheel")
        body["prizes"] = prizes
        r = await self.client.post("/api/v1/campaigns", json=body, headers=merchant.headers)
        assert r.status_code == 201, r.text
        campaign = dict(r.json())
        if publish:
            r = await self.client.post(f"/api/v1/campaigns/{campaign['id']}/publish",
                                       headers=merchant.headers)
            assert r.status_code == 200, r.text
            campaign = dict(r.json())
        return campaign

    async def draw(self, member: MemberHandle, campaign_id: str,
                   key: str | None = None) -> httpx.Response:
        headers = dict(member.headers)
        if key:
            headers["Idempotency-Key"] = key
        return await self.client.post(f"/api/v1/campaigns/{campaign_id}/draws", headers=headers)
