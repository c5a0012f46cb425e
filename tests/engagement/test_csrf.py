"""Anti-CSRF tokens are bound to the session their page was made for: a token lifted from
another page of the same browser (a member page, another console session, the page shown
before signing in) does not pass."""

from __future__ import annotations

import re

import httpx

from engagement.kit.constants import CONSOLE_COOKIE
from engagement.kit.state import Services
from tests.console.helpers import HTML, Console, add_user, csrf_token, login
from tests.factories import Factory
from tests.referrals.helpers import program

NEW_COUPON = {"name": "满50减10", "discount_type": "amount_off", "amount": "10",
              "valid_days": "30", "stock": "100"}


async def _templates(services: Services) -> int:
    return int(await services.pool.fetchval("SELECT count(*) FROM coupon_templates"))


async def _refused(client: httpx.AsyncClient, token: str) -> None:
    """A console state change with ``token``: refused, in JSON and in a form."""
    r = await client.post("/console/coupons/new", data=NEW_COUPON,
                          headers={"X-CSRF-Token": token})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = await client.post("/console/coupons/new", data={**NEW_COUPON, "csrf_token": token},
                          headers=HTML)
    assert r.status_code == 403 and 'data-error-page="403"' in r.text


async def test_a_member_page_token_does_not_pass_in_the_console(
        shop: Console, factory: Factory, services: Services) -> None:
    browser = shop.client
    member = await factory.member(shop.merchant)
    entered = await browser.get(f"/m/enter?token={member.token}")
    assert entered.status_code == 303
    home = await browser.get("/m", headers=HTML)
    assert home.status_code == 200
    member_token = csrf_token(home.text)
    await _refused(browser, member_token)
    assert await _templates(services) == 0
    # The console's own token, from the same browser, does.
    r = await browser.post("/console/coupons/new",
                           data={**NEW_COUPON, "csrf_token": shop.token}, headers=HTML)
    assert r.status_code == 303, r.text
    assert await _templates(services) == 1


async def test_a_token_from_one_console_session_does_not_pass_in_another(
        shop: Console, services: Services) -> None:
    await add_user(services, shop.merchant, "staff@shiguang.example")
    browser = shop.client
    first = browser.cookies.get(CONSOLE_COOKIE, path="/")
    r = await browser.post("/console/logout", data={"csrf_token": shop.token},
                           headers=HTML)
    assert r.status_code == 303
    signed_out = csrf_token((await browser.get("/console/login", headers=HTML)).text)
    r = await login(browser, "staff@shiguang.example")
    assert r.status_code == 303
    assert browser.cookies.get(CONSOLE_COOKIE, path="/") != first
    # The same browser (same CSRF cookie), a new session: the first session's token,
    # and the sign-in page's, are refused.
    await _refused(browser, shop.token)
    await _refused(browser, signed_out)
    assert await _templates(services) == 0
    page = await browser.get("/console/coupons", headers=HTML)
    r = await browser.post("/console/coupons/new",
                           data={**NEW_COUPON, "csrf_token": csrf_token(page.text)},
                           headers=HTML)
    assert r.status_code == 303, r.text


async def test_a_member_token_does_not_pass_for_another_member(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    await program(factory, shop)
    first, second = await factory.member(shop), await factory.member(shop)
    tokens = {}
    for member in (first, second):
        assert (await client.get(f"/m/enter?token={member.token}")).status_code == 303
        found = re.search(r'name="csrf-token" content="([^"]+)"',
                          (await client.get("/m", headers=HTML)).text)
        assert found
        tokens[member.id] = found.group(1)
    # The browser is now the second member's: the first member's page token is refused.
    r = await client.post("/api/v1/me/share-links", json={},
                          headers={"X-CSRF-Token": tokens[first.id]})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = await client.post("/api/v1/me/share-links", json={},
                          headers={"X-CSRF-Token": tokens[second.id]})
    assert r.status_code == 201, r.text
