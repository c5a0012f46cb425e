"""The member code (会员码): a fresh short-lived code per call, for the member only, shown on
the member home as a QR code that stops working once the code has expired."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

import httpx
import pytest

from engagement.kit.constants import (
    MEMBER_CODE_DIGITS,
    MEMBER_CODE_KEY,
    MEMBER_CODE_REFRESH_SECONDS,
    MEMBER_CODE_TTL_SECONDS,
)
from engagement.kit.state import Services
from engagement.members import member_codes
from tests.factories import Factory, MemberHandle

HTML = {"Accept": "text/html"}


async def _code(client: httpx.AsyncClient, member: MemberHandle) -> dict[str, str]:
    r = await client.get("/api/v1/me/member-code", headers=member.headers)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    return dict(r.json())


async def test_each_call_gives_a_new_code_that_stands_for_the_member(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    first, second = await _code(client, member), await _code(client, member)
    assert first["code"] != second["code"]
    for body in (first, second):
        assert set(body) == {"code", "expires_at"}
        assert len(body["code"]) == MEMBER_CODE_DIGITS and body["code"].isdigit()
        assert datetime.fromisoformat(body["expires_at"]) == services.clock.now() + timedelta(
            seconds=MEMBER_CODE_TTL_SECONDS)
        # Both stay valid until they expire: a refresh does not break a scan in progress.
        assert await member_codes.resolve(services.redis, shop.id, body["code"]) == member.id
    # The contract allows five minutes at most, and Redis forgets the code on time.
    ttl = await services.redis.ttl(MEMBER_CODE_KEY.format(merchant_id=shop.id,
                                                          code=first["code"]))
    assert 0 < ttl <= MEMBER_CODE_TTL_SECONDS <= 300
    assert MEMBER_CODE_REFRESH_SECONDS < MEMBER_CODE_TTL_SECONDS
    # A code is the merchant's: another merchant's till cannot resolve it.
    other = await factory.merchant("隔壁")
    assert await member_codes.resolve(services.redis, other.id, first["code"]) is None


async def test_an_expired_code_no_longer_resolves(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The TTL is the one thing that makes a screenshot worthless; shortened to a second
    # here, so the test waits a moment of real time rather than three minutes.
    monkeypatch.setattr(member_codes, "MEMBER_CODE_TTL_SECONDS", 1)
    shop = await factory.merchant()
    member = await factory.member(shop)
    body = await _code(client, member)
    code = body["code"]
    assert await member_codes.resolve(services.redis, shop.id, code) == member.id
    svg = await client.get(f"/m/member-code/{code}.svg", headers=member.headers)
    assert svg.status_code == 200
    await asyncio.sleep(1.3)
    assert await member_codes.resolve(services.redis, shop.id, code) is None
    gone = await client.get(f"/m/member-code/{code}.svg", headers=member.headers)
    assert gone.status_code == 404


async def test_only_a_member_gets_a_code(client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    r = await client.get("/api/v1/me/member-code", headers=shop.headers)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert (await client.get("/api/v1/me/member-code")).status_code == 401
    bad = {"Authorization": "Bearer mt_not-a-token"}
    assert (await client.get("/api/v1/me/member-code", headers=bad)).status_code == 401


async def test_the_member_cookie_works_too(client: httpx.AsyncClient, factory: Factory,
                                           services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    r = await client.post(f"/api/v1/members/{member.id}/tokens", headers=shop.headers)
    await client.get(r.json()["entry_url"])  # signs in: the member cookie
    r = await client.get("/api/v1/me/member-code")
    assert r.status_code == 200
    assert await member_codes.resolve(services.redis, shop.id, r.json()["code"]) == member.id


async def test_the_qr_image_is_only_for_the_members_own_live_code(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    member, other = await factory.member(shop), await factory.member(shop)
    code = (await _code(client, member))["code"]
    r = await client.get(f"/m/member-code/{code}.svg", headers=member.headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("image/svg+xml")
    assert r.headers["cache-control"] == "no-store"
    assert r.text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    # Someone else's code, a made-up one and a non-code all look the same: not found.
    for path, who in [(f"/m/member-code/{code}.svg", other),
                      ("/m/member-code/123456789012345678.svg", member),
                      ("/m/member-code/abc.svg", member)]:
        assert (await client.get(path, headers=who.headers)).status_code == 404
    assert (await client.get(f"/m/member-code/{code}.svg", headers=shop.headers)
            ).status_code == 403
    assert (await client.get(f"/m/member-code/{code}.svg")).status_code == 401


async def test_the_member_home_shows_a_live_code(client: httpx.AsyncClient, factory: Factory,
                                                 services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    r = await client.post(f"/api/v1/members/{member.id}/tokens", headers=shop.headers)
    home = await client.get(r.json()["entry_url"], headers=HTML, follow_redirects=True)
    assert home.status_code == 200
    found = re.search(r'data-member-code="(\d+)"', home.text)
    assert found, "the home shows no member code"
    code = found.group(1)
    assert await member_codes.resolve(services.redis, shop.id, code) == member.id
    assert f'src="/m/member-code/{code}.svg"' in home.text
    # The digits are grouped for reading aloud: 18 digits in three groups of six.
    assert f"{code[:6]} {code[6:12]} {code[12:]}" in home.text
    assert "会员码" in home.text
    assert f'data-refresh-seconds="{MEMBER_CODE_REFRESH_SECONDS}"' in home.text
    assert "/static/js/member-code.js" in home.text
    # The card comes before the coupons: the first thing a member shows at the till.
    assert home.text.index('id="member-code"') < home.text.index('id="coupons"')
    english = await client.get("/m?lang=en", headers=HTML)
    assert "Member code" in english.text
