"""Members with coupons and signed-in cashiers, for the till's tests."""

from __future__ import annotations

from typing import Any

import httpx

from engagement.coupons import service as coupons
from engagement.kit.db import transaction
from tests.console.helpers import HTML, add_user, csrf_token, login
from tests.factories import Factory, MemberHandle, MerchantHandle


async def give_coupon(factory: Factory, shop: MerchantHandle, member: MemberHandle,
                      template: dict[str, Any] | None = None, **terms: Any) -> str:
    """A coupon of ``template`` (a new one with ``terms`` when None) issued to the member."""
    tpl = template or await factory.template(shop, **terms)
    async with transaction(factory.services.pool) as conn:
        row = await coupons.issue_single(conn, shop.id, tpl["id"], member.id, source="test",
                                         now=factory.services.clock.now())
    return str(row["code"])


async def cashier(app: object, factory: Factory, shop: MerchantHandle,
                  email: str = "cashier@shiguang.example",
                  store_id: str | None = None) -> tuple[httpx.AsyncClient, str]:
    """A signed-in cashier's browser (cookies) and the till page's CSRF token."""
    await add_user(factory.services, shop, email, role="cashier", store_id=store_id)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                               base_url="http://testserver")
    r = await login(client, email)
    assert r.status_code == 303, r.text
    page = await client.get("/till", headers=HTML)
    assert page.status_code == 200, page.text
    return client, csrf_token(page.text)
