"""The check-in card on the member home: shown only while the program is on, and its form
when the page runs no JavaScript (a post that redirects back with the outcome)."""

from __future__ import annotations

import httpx

from engagement.kit.state import Services
from tests.console.helpers import csrf_token
from tests.factories import Factory
from tests.loyalty.checkin_helpers import set_check_in

HTML = {"Accept": "text/html"}


async def _signed_in(client: httpx.AsyncClient, token: str) -> str:
    r = await client.get(f"/m/enter?token={token}")
    assert r.status_code == 303
    home = await client.get("/m", headers=HTML)
    assert home.status_code == 200
    return home.text


async def test_the_home_card_and_its_form_without_javascript(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    page = await _signed_in(client, member.token)
    assert "data-check-in-card" not in page  # no program: no card
    await set_check_in(client, shop)
    page = (await client.get("/m", headers=HTML)).text
    assert 'data-check-in-card data-state="ready"' in page
    assert page.count('class="check-in-day"') == 7
    # A form post without the page's token checks nobody in.
    expired = await client.post("/m/check-in", data={"csrf_token": "forged"}, headers=HTML)
    assert expired.status_code == 303
    assert expired.headers["location"] == "/m?check_in=expired#check-in"
    assert await services.pool.fetchval("SELECT count(*) FROM check_ins") == 0
    done = await client.post("/m/check-in", data={"csrf_token": csrf_token(page)},
                             headers=HTML)
    assert done.headers["location"] == "/m?check_in=done#check-in"
    after = (await client.get("/m?check_in=done", headers=HTML)).text
    assert 'data-check-in-card data-state="done"' in after
    assert 'data-outcome="done"' in after and "签到成功！获得 5 积分" in after
    again = await client.post("/m/check-in", data={"csrf_token": csrf_token(page)},
                              headers=HTML)
    assert again.headers["location"] == "/m?check_in=already#check-in"
    assert await services.pool.fetchval("SELECT count(*) FROM check_ins") == 1
    # The API's cookie path needs the CSRF header like every member state change.
    no_header = await client.post("/api/v1/me/check-ins")
    assert no_header.status_code == 403 and no_header.json()["error"]["code"] == "csrf_failed"
    await set_check_in(client, shop, enabled=False)
    assert "data-check-in-card" not in (await client.get("/m", headers=HTML)).text
