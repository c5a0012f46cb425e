"""The till page: staff of any role open it, visitors are sent to sign in; it carries the
page hooks and every text its script shows; the join QR code draws only this service's
links; the receipt reads an order back."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from engagement.kit.state import Services
from tests.console.helpers import HTML, add_user, login
from tests.factories import Factory
from tests.till.helpers import cashier, give_coupon

HOOKS = ('name="query"', 'data-action="lookup"', 'name="subtotal"', "data-payable",
         'data-action="confirm"', 'data-action="scan"', 'data-action="next"')


def _config(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="till-config">(.*?)</script>', html,
                      re.S)
    assert found, "the page carries no till-config"
    return dict(json.loads(found.group(1)))


async def test_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    r = await client.get("/till", headers=HTML)
    assert r.status_code == 303
    assert r.headers["location"] == "/console/login?next=%2Ftill"
    r = await client.get("/till/join-qr.svg", params={"url": "http://testserver/j/x"},
                         headers=HTML)
    assert r.status_code == 303


async def test_every_role_opens_the_till_with_its_hooks_and_texts(
        app: object, factory: Factory, services: Services) -> None:
    shop = await factory.merchant("拾光咖啡")
    async with services.pool.acquire() as conn:
        store_id = await conn.fetchval(
            "INSERT INTO stores (id, merchant_id, name, created_at) "
            "VALUES ('sto_1', $1, '国贸店', now()) RETURNING id", shop.id)
    browser, _ = await cashier(app, factory, shop, store_id=store_id)
    try:
        page = await browser.get("/till", headers=HTML)
        assert page.status_code == 200
        html = page.text
        for hook in HOOKS:
            assert hook in html, hook
        assert "收银台" in html and "国贸店" in html and "拾光咖啡" in html
        assert 'src="/static/vendor/jsqr-1.4.0.js?v=' in html
        assert "script-src 'self'" in page.headers["content-security-policy"]
        config = _config(html)
        assert config["storeId"] == store_id and config["timeZone"] == "Asia/Shanghai"
        errors = config["texts"]["errors"]
        for code in ("coupon_expired", "coupon_min_spend_not_met", "coupon_not_owned",
                     "coupon_already_redeemed", "coupons_not_stackable",
                     "member_code_not_found", "network"):
            assert errors[code], code
        assert errors["coupon_expired"].startswith("这张券过期了")
        english = _config((await browser.get("/till?lang=en", headers=HTML)).text)
        assert english["texts"]["errors"]["coupon_expired"] == \
            "This coupon has expired and can no longer be used."
        assert "{amount}" in english["texts"]["errors"]["coupon_min_spend_not_met"]
    finally:
        await browser.aclose()
    for role in ("owner", "manager"):
        email = f"{role}@shiguang.example"
        await add_user(services, shop, email, role=role)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                                     base_url="http://testserver") as other:
            assert (await login(other, email)).status_code == 303
            r = await other.get("/till", headers=HTML)
            assert r.status_code == 200 and 'name="query"' in r.text
            assert _config(r.text)["storeId"] is None


async def test_the_join_code_draws_only_this_services_links(
        app: object, factory: Factory) -> None:
    shop = await factory.merchant()
    browser, _ = await cashier(app, factory, shop)
    try:
        r = await browser.get("/till/join-qr.svg",
                              params={"url": f"http://testserver/j/{shop.slug}?phone=1"})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("image/svg+xml")
        assert r.text.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in r.text
        for url in ("https://evil.example/j/x", "//evil.example/j", "javascript:alert(1)",
                    "http://testserver.evil.example/", "", "http://testserver/" + "a" * 600,
                    "http://testserver/j/\x00"):
            r = await browser.get("/till/join-qr.svg", params={"url": url})
            assert r.status_code == 422, url
    finally:
        await browser.aclose()


async def test_the_receipt_reads_the_order_back(
        client: httpx.AsyncClient, app: object, factory: Factory) -> None:
    shop = await factory.merchant()
    rival = await factory.merchant("隔壁奶茶")
    r = await client.put("/api/v1/points-program", headers=shop.headers, json={
        "earn": {"per_amount": 100, "points": 1}, "join_bonus": 0, "expiry_days": None})
    assert r.status_code == 200, r.text
    member = await factory.member(shop, phone="13800138000", name="王小明")
    code = await give_coupon(factory, shop, member)
    r = await client.post("/api/v1/orders", headers=shop.headers, json={
        "id": "till-abc", "member_id": member.id, "amount": 10_850, "coupon_codes": [code]})
    assert r.status_code == 201, r.text
    browser, _ = await cashier(app, factory, shop)
    try:
        for caller, headers in ((client, shop.headers), (browser, {})):
            r = await caller.get("/api/v1/orders/till-abc/receipt", headers=headers)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["order_id"] == "till-abc" and body["amount"] == 10_850
            assert body["points_earned"] == 108 and body["points_balance"] == 108
            assert body["member"]["id"] == member.id
            assert body["member"]["phone"] == "*******8000"
        # A priced order taken at the till: what each coupon took off, by name.
        priced = await give_coupon(factory, shop, member, name="满50减20", min_spend=5000,
                                   discount={"type": "amount_off", "amount": 2000})
        r = await client.post("/api/v1/orders", headers=shop.headers, json={
            "id": "till-def", "member_id": member.id, "subtotal": 12_850,
            "coupon_codes": [priced]})
        assert r.status_code == 201, r.text
        r = await browser.get("/api/v1/orders/till-def/receipt")
        body = r.json()
        assert (body["subtotal"], body["discount"], body["amount"]) == (12_850, 2000, 10_850)
        assert body["coupons"] == [{"code": priced, "name": "满50减20", "discount": 2000}]
        assert body["points_earned"] == 108 and body["points_balance"] == 216
        # A guest's order: no member yet, the phone masked, no points.
        r = await client.post("/api/v1/orders", headers=shop.headers, json={
            "id": "till-guest", "phone": "13912345678", "subtotal": 3500})
        assert r.status_code == 201, r.text
        body = (await browser.get("/api/v1/orders/till-guest/receipt")).json()
        assert body["member"] is None and body["guest_phone"] == "*******5678"
        assert body["points_earned"] == 0 and body["points_balance"] is None
        r = await client.get("/api/v1/orders/till-abc/receipt", headers=rival.headers)
        assert r.status_code == 404
        r = await client.get("/api/v1/orders/nope/receipt", headers=shop.headers)
        assert r.status_code == 404
    finally:
        await browser.aclose()
