"""The share link's landing page and QR code, and the referrer's page on the phone."""

from __future__ import annotations

import httpx

from engagement.kit.state import Services
from tests.factories import Factory
from tests.referrals.helpers import join, order, program, share_code

HTML = {"Accept": "text/html"}


async def test_landing_page_shows_coupon_and_masked_sharer(client: httpx.AsyncClient,
                                                           factory: Factory) -> None:
    shop = await factory.merchant("茶饮小店", slug="tea-shop")
    gift = await factory.template(shop, name="新人满30减8", min_spend=3000,
                                  discount={"type": "amount_off", "amount": 800})
    await program(factory, shop, reward_coupon_template_id=gift["id"])
    a = await factory.member(shop, name="小红", phone="13812345678")
    code = await share_code(factory, a)

    client.cookies.clear()
    page = await client.get(f"/r/{code}", headers=HTML)
    assert page.status_code == 200
    assert "新人满30减8" in page.text and "小红" in page.text
    assert "138****5678" in page.text and "13812345678" not in page.text
    assert f"/j/tea-shop?share={code}&amp;next=%2Fm" in page.text
    assert f"/r/{code}/qr.svg" in page.text
    assert "css/referrals.css" in page.text
    # Codes are case-insensitive when typed.
    assert (await client.get(f"/r/{code.lower()}", headers=HTML)).status_code == 200

    qr = await client.get(f"/r/{code}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.text.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in qr.text

    missing = await client.get("/r/NOSUCH99", headers=HTML)
    assert missing.status_code == 404 and "<html" in missing.text
    assert (await client.get("/r/NOSUCH99/qr.svg")).status_code == 404


async def test_landing_page_knows_its_visitor(client: httpx.AsyncClient,
                                              factory: Factory) -> None:
    shop = await factory.merchant()
    await program(factory, shop)
    a = await factory.member(shop)
    code = await share_code(factory, a)
    entry = (await client.post(f"/api/v1/members/{a.id}/tokens",
                               headers=shop.headers)).json()["entry_url"]
    await client.get(entry)
    own = await client.get(f"/r/{code}", headers=HTML)
    assert "/m/referrals" in own.text and "share=" not in own.text
    await program(factory, shop, enabled=False)
    client.cookies.clear()
    ended = await client.get(f"/r/{code}", headers=HTML)
    assert ended.status_code == 200 and "活动已结束" in ended.text


async def test_referrer_page_shows_link_invitees_and_commission(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await program(factory, shop, levels=[{"rate_bp": 1000}], hold_days=3)
    a = await factory.member(shop, name="小红")
    client.cookies.clear()
    assert (await client.get("/m/referrals", headers=HTML)).status_code == 401

    entry = (await client.post(f"/api/v1/members/{a.id}/tokens",
                               headers=shop.headers)).json()["entry_url"]
    await client.get(entry)
    first = await client.get("/m/referrals", headers=HTML)
    assert first.status_code == 200
    assert "data-share-link" in first.text and "js/referrals.js" in first.text
    code = await services.pool.fetchval("SELECT code FROM share_links WHERE member_id = $1",
                                        a.id)
    assert f"/r/{code}/qr.svg" in first.text

    b = await join(factory, shop, code, name="王小明", phone="13900001111")
    assert (await order(client, shop, "p-1", b.id, 12_300)).status_code == 201
    await client.get(entry)  # the factory's requests shared the cookie jar
    page = await client.get("/m/referrals", headers=HTML)
    assert "王** 139****1111" in page.text and "13900001111" not in page.text
    assert 'data-pending>¥12.3<' in page.text
    assert page.text.count("data-entry ") == 1

    home = await client.get("/m", headers=HTML)
    assert home.status_code == 200 and "/m/referrals" in home.text


async def test_referral_endpoints_are_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path, method in [("/api/v1/referral-program", "put"), ("/api/v1/referral-program", "get"),
                         ("/api/v1/me/share-links", "post"), ("/api/v1/me/referrals", "get"),
                         ("/api/v1/members/{member_id}/commissions", "get"),
                         ("/api/v1/referral-bindings", "get"),
                         ("/api/v1/referral-bindings/{member_id}/approve", "post")]:
        assert method in paths[path], path
