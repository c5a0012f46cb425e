"""A member signs out from the home's footer: a form post with the page's CSRF token clears
the cookie; the token the merchant sent still works as a link."""

from __future__ import annotations

import httpx

from engagement.kit.constants import MEMBER_COOKIE
from tests.console.helpers import csrf_token
from tests.factories import Factory


async def test_a_member_signs_out_and_can_come_back_by_the_link(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop, name="小林")
    r = await client.get(f"/m/enter?token={member.token}")
    assert r.status_code == 303 and client.cookies.get(MEMBER_COOKIE)
    home = (await client.get("/m")).text
    assert 'action="/m/sign-out"' in home and 'data-action="sign-out"' in home
    # Without the page's token (a forged post from another site): refused, still signed in.
    refused = await client.post("/m/sign-out", data={"csrf_token": "forged"})
    assert refused.status_code == 403 and "页面已过期" in refused.text
    assert (await client.get("/m")).status_code == 200
    r = await client.post("/m/sign-out", data={"csrf_token": csrf_token(home)})
    assert r.status_code == 200 and "已退出登录" in r.text
    assert not client.cookies.get(MEMBER_COOKIE)
    assert (await client.get("/m")).status_code == 401
    r = await client.get(f"/m/enter?token={member.token}")
    assert r.status_code == 303 and (await client.get("/m")).status_code == 200
