from __future__ import annotations

import asyncio

import httpx

from engagement.kit.clock import FrozenClock
from tests.factories import Factory


async def test_create_member_then_same_external_id_returns_existing(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    body = {"external_id": "pos-42", "phone": "13800138000", "name": "小红",
            "birthday": "1990-05-01"}
    first = await client.post("/api/v1/members", json=body, headers=shop.headers)
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["external_id"] == "pos-42"
    assert created["points"] == 0 and created["tier"] is None and created["referrer_id"] is None
    assert created["id"].startswith("mbr_")
    again = await client.post("/api/v1/members", json=body, headers=shop.headers)
    assert again.status_code == 200
    assert again.json()["id"] == created["id"]
    fetched = await client.get(f"/api/v1/members/{created['id']}", headers=shop.headers)
    assert fetched.status_code == 200 and fetched.json() == created


async def test_concurrent_creates_of_one_external_id_make_one_member(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    responses = await asyncio.gather(*[
        client.post("/api/v1/members", json={"external_id": "same"}, headers=shop.headers)
        for _ in range(20)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [201]
    assert len({r.json()["id"] for r in responses}) == 1


async def test_other_merchant_cannot_see_member(client: httpx.AsyncClient,
                                                factory: Factory) -> None:
    a, b = await factory.merchant("A"), await factory.merchant("B")
    member = await factory.member(a)
    r = await client.get(f"/api/v1/members/{member.id}", headers=b.headers)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = await client.post(f"/api/v1/members/{member.id}/tokens", headers=b.headers)
    assert r.status_code == 404


async def test_member_token_on_merchant_endpoint_is_403(client: httpx.AsyncClient,
                                                        factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    r = await client.get(f"/api/v1/members/{member.id}", headers=member.headers)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    r = await client.post("/api/v1/members", json={"external_id": "x"}, headers=member.headers)
    assert r.status_code == 403


async def test_merchant_key_on_member_endpoint_is_403(client: httpx.AsyncClient,
                                                      factory: Factory) -> None:
    shop = await factory.merchant()
    r = await client.get("/api/v1/me", headers=shop.headers)
    assert r.status_code == 403


async def test_missing_or_bad_credentials_are_401(client: httpx.AsyncClient,
                                                  factory: Factory) -> None:
    r = await client.post("/api/v1/members", json={"external_id": "x"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    for header in ["Bearer ek_not-a-real-key", "Basic abc", "Bearer mt_unknown", "Bearer "]:
        r = await client.get("/api/v1/me", headers={"Authorization": header})
        assert r.status_code == 401, header
    r = await client.post("/api/v1/members", json={"external_id": "x"},
                          headers={"Authorization": "Bearer ek_not-a-real-key"})
    assert r.status_code == 401


async def test_malformed_body_is_422_with_field_details_and_changes_nothing(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    r = await client.post("/api/v1/members", json={"phone": "not a phone", "birthday": "soon"},
                          headers=shop.headers)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    fields = {f["field"] for f in error["details"]["fields"]}
    assert fields == {"external_id", "phone", "birthday"}
    r = await client.post("/api/v1/members", content=b"{not json",
                          headers={"Content-Type": "application/json", **shop.headers})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["fields"][0]["field"] == "body"
    r = await client.post("/api/v1/members", json=["a list"], headers=shop.headers)
    assert r.status_code == 422
    count = await factory.services.pool.fetchval("SELECT count(*) FROM members")
    assert count == 0


async def test_duplicate_phone_is_409(client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    await factory.member(shop, phone="13900000000")
    r = await client.post("/api/v1/members", json={"external_id": "other", "phone": "13900000000"},
                          headers=shop.headers)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "phone_taken"


async def test_unknown_share_code_is_rejected(client: httpx.AsyncClient,
                                              factory: Factory) -> None:
    shop = await factory.merchant()
    r = await client.post("/api/v1/members", json={"external_id": "x", "share_code": "NOPE"},
                          headers=shop.headers)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "unknown_share_code"


async def test_member_token_reaches_me_until_it_expires(
        client: httpx.AsyncClient, factory: Factory, clock: FrozenClock) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop, name="阿伟")
    r = await client.get("/api/v1/me", headers=member.headers)
    assert r.status_code == 200
    assert r.json()["id"] == member.id and r.json()["name"] == "阿伟"
    clock.advance(days=31)
    r = await client.get("/api/v1/me", headers=member.headers)
    assert r.status_code == 401


async def test_entry_url_signs_member_in(client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop, name="小明")
    r = await client.post(f"/api/v1/members/{member.id}/tokens", headers=shop.headers)
    entry = r.json()["entry_url"]
    assert entry.startswith("http://testserver/m/enter?token=mt_")
    landed = await client.get(entry, follow_redirects=True)
    assert landed.status_code == 200
    assert "小明" in landed.text and str(landed.url).endswith("/m")
    client.cookies.clear()
    denied = await client.get("/m/enter?token=mt_forged")
    assert denied.status_code == 401
