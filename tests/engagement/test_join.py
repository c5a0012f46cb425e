"""Joining in one step with a phone number (领券先领卡), through the join link's pages."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from tests.factories import Factory, MerchantHandle

HTML = {"Accept": "text/html"}
FETCH = {"X-Requested-With": "fetch", "Accept": "application/json"}


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


async def _open(client: httpx.AsyncClient, shop: MerchantHandle, query: str = "") -> str:
    r = await client.get(f"/j/{shop.slug}{query}", headers=HTML)
    assert r.status_code == 200, r.text
    return _token(r.text)


def _sent_code(caplog: pytest.LogCaptureFixture) -> str:
    codes = [r.args[2] for r in caplog.records  # type: ignore[index]
             if r.name == "engagement.loyalty.join.senders" and isinstance(r.args, tuple)]
    assert codes, "the development sender logged no code"
    return str(codes[-1])


async def _send(client: httpx.AsyncClient, shop: MerchantHandle, token: str,
                phone: str = "13800138000") -> httpx.Response:
    return await client.post(f"/j/{shop.slug}/code", data={"phone": phone, "csrf_token": token},
                             headers=FETCH)


async def test_a_visitor_joins_with_a_phone_and_lands_where_they_were_going(
        client: httpx.AsyncClient, factory: Factory, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="engagement.loyalty.join.senders")
    shop = await factory.merchant()
    token = await _open(client, shop, "?next=/play/cmp_x")
    r = await _send(client, shop, token, "+86 138-0013-8000")
    assert r.status_code == 202 and r.json()["phone"] == "13800138000"
    code = _sent_code(caplog)
    assert "138****8000" in caplog.text and "13800138000" not in caplog.text
    r = await client.post(f"/j/{shop.slug}", data={
        "phone": "13800138000", "code": code, "next": "/play/cmp_x", "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/play/cmp_x"
    assert "eng_member" in r.cookies
    me = (await client.get("/api/v1/me")).json()
    assert me["external_id"] == "phone:13800138000" and me["phone"] == "13800138000"
    # The signed-out page's token no longer passes once signed in...
    r = await client.post(f"/j/{shop.slug}", data={
        "phone": "13800138000", "code": code, "csrf_token": token}, headers=HTML)
    assert r.status_code == 403
    # ...and the code was single use.
    home = await client.get("/m", headers=HTML)
    found = re.search(r'name="csrf-token" content="([^"]+)"', home.text)
    assert found
    token = found.group(1)
    r = await client.post(f"/j/{shop.slug}", data={
        "phone": "13800138000", "code": code, "csrf_token": token}, headers=HTML)
    assert r.status_code == 422 and "验证码已失效" in r.text


async def test_a_known_phone_signs_the_existing_member_in(
        client: httpx.AsyncClient, factory: Factory, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="engagement.loyalty.join.senders")
    shop = await factory.merchant()
    member = await factory.member(shop, external_id="pos-7", phone="13900000001")
    token = await _open(client, shop)
    assert (await _send(client, shop, token, "13900000001")).status_code == 202
    r = await client.post(f"/j/{shop.slug}", data={
        "phone": "13900000001", "code": _sent_code(caplog), "csrf_token": token,
        "next": "//evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/m"  # no open redirect
    assert (await client.get("/api/v1/me")).json()["id"] == member.id


async def test_wrong_codes_are_counted_and_burn_the_code(
        client: httpx.AsyncClient, factory: Factory, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="engagement.loyalty.join.senders")
    shop = await factory.merchant()
    token = await _open(client, shop)
    await _send(client, shop, token)
    code = _sent_code(caplog)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        r = await client.post(f"/j/{shop.slug}", data={
            "phone": "13800138000", "code": wrong, "csrf_token": token}, headers=HTML)
        assert r.status_code == 422
        assert f"还可以再试 {left} 次" in r.text
    r = await client.post(f"/j/{shop.slug}", data={
        "phone": "13800138000", "code": wrong, "csrf_token": token}, headers=HTML)
    assert r.status_code == 422 and "验证码已失效" in r.text
    r = await client.post(f"/j/{shop.slug}", data={
        "phone": "13800138000", "code": code, "csrf_token": token}, headers=HTML)
    assert r.status_code == 422 and "验证码已失效" in r.text
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_codes_are_not_resent_within_a_minute_and_phones_are_checked(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    token = await _open(client, shop)
    assert (await _send(client, shop, token)).status_code == 202
    r = await _send(client, shop, token)
    assert r.status_code == 429 and r.json()["error"]["code"] == "code_resend_too_soon"
    assert "秒后再试" in r.json()["error"]["message"]
    r = await _send(client, shop, token, "12345")
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "phone"
    # Without script, the same form posts and the page comes back.
    r = await client.post(f"/j/{shop.slug}/code", data={"phone": "13700000000",
                                                         "csrf_token": token}, headers=HTML)
    assert r.status_code == 200 and "验证码已发送" in r.text and 'value="13700000000"' in r.text


async def test_join_forms_need_the_pages_csrf_token(client: httpx.AsyncClient,
                                                    factory: Factory) -> None:
    shop = await factory.merchant()
    await _open(client, shop)
    r = await client.post(f"/j/{shop.slug}/code", data={"phone": "13800138000"}, headers=FETCH)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = await client.post(f"/j/{shop.slug}", data={
        "phone": "13800138000", "code": "123456", "csrf_token": "forged"}, headers=HTML)
    assert r.status_code == 403 and "页面已过期" in r.text


async def test_an_unknown_merchant_is_a_friendly_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/j/no-such-shop", headers=HTML)
    assert r.status_code == 404 and "页面不存在" in r.text
    assert r.headers["content-type"].startswith("text/html")
