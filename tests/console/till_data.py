"""Orders taken at stores by members of staff, for the console's order pages, the till
summary and the exports, all through the API a till uses: stores by POST /api/v1/stores,
orders by POST /api/v1/orders (priced by the service from ``subtotal``), sent either with the
merchant's key (a POS: no member of staff) or with a cashier's signed-in till session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from engagement.console.schemas import Role
from engagement.coupons.service import issue_single
from engagement.kit.db import transaction
from tests.console.helpers import HTML, add_user, csrf_token, login
from tests.factories import Factory, MerchantHandle


@dataclass
class Placed:
    id: str
    amount: int
    discount: int
    coupons: list[str]
    store_id: str | None


@dataclass
class Till:
    """A member of staff signed in at the till: their session and its CSRF token."""

    client: httpx.AsyncClient
    token: str
    staff_id: str
    email: str
    store_id: str | None


async def store(factory: Factory, merchant: MerchantHandle, name: str) -> str:
    r = await factory.client.post("/api/v1/stores", json={"name": name},
                                  headers=merchant.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def till(app: object, factory: Factory, merchant: MerchantHandle, email: str, *,
               role: Role = "cashier", store_id: str | None = None) -> Till:
    """Close it with ``await t.client.aclose()`` (the tests' fixtures own the app)."""
    staff_id = await add_user(factory.services, merchant, email, role=role, store_id=store_id)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                               base_url="http://testserver")
    assert (await login(client, email)).status_code == 303
    # Every page rendered for the session carries its token; a cashier's /console is the
    # 403 page, made for this session like any other.
    page = await client.get("/console", headers=HTML)
    return Till(client, csrf_token(page.text), staff_id, email, store_id)


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
                subtotal: int, member_id: str | None = None, phone: str | None = None,
                coupons: tuple[str, ...] = (), store_id: str | None = None,
                at: Till | None = None) -> Placed:
    """An order of ``subtotal`` cents with ``coupons``, for a member (or a guest's phone),
    at ``store_id`` (a till's own store when it has one), taken at the till ``at`` or sent
    by a POS."""
    body: dict[str, Any] = {"id": order_id, "subtotal": subtotal, "coupon_codes": list(coupons)}
    body |= {"member_id": member_id} if member_id else {"phone": phone}
    if store_id:
        body["store_id"] = store_id
    if at is None:
        r = await factory.client.post("/api/v1/orders", json=body, headers=merchant.headers)
    else:
        r = await at.client.post("/api/v1/orders", json=body,
                                 headers={"X-CSRF-Token": at.token})
    assert r.status_code == 201, r.text
    out = r.json()
    return Placed(order_id, out["amount"], out["discount"], out["coupon_codes"],
                  out["store_id"])


async def refund(factory: Factory, merchant: MerchantHandle, order_id: str,
                 amount: int) -> dict[str, Any]:
    r = await factory.client.post(f"/api/v1/orders/{order_id}/refunds", json={"amount": amount},
                                  headers=merchant.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())
