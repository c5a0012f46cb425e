"""Who gets into the console and what a request must carry: sign-in and sessions, login
throttling, CSRF on every state-changing route, and merchants walled off from each other."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from engagement.console import throttle
from engagement.kit.constants import CONSOLE_COOKIE
from engagement.kit.state import Services
from tests.console.helpers import HTML, PASSWORD, Console, add_user, csrf_token, login
from tests.factories import Factory


async def test_visitors_are_sent_to_sign_in_and_back(app: object, client: httpx.AsyncClient,
                                                     factory: Factory,
                                                     services: Services) -> None:
    r = await client.get("/console/members?q=1", headers=HTML)
    assert r.status_code == 303
    assert r.headers["location"] == "/console/login?next=%2Fconsole%2Fmembers"
    r = await client.get("/console/campaigns", headers={**HTML, "HX-Request": "true"})
    assert r.status_code == 401 and r.headers["hx-redirect"].startswith("/console/login")
    assert (await client.get("/console/campaigns/x/series.json")).status_code == 401
    # A form posted after the session ended (the page's token still valid) signs in first.
    token = csrf_token((await client.get("/console/login", headers=HTML)).text)
    r = await client.post("/console/coupons/new", data={"csrf_token": token}, headers=HTML)
    assert r.status_code == 303
    assert r.headers["location"] == "/console/login?next=%2Fconsole%2Fcampaigns"

    shop = await factory.merchant()
    await add_user(services, shop, "Owner@Example.com")
    r = await login(client, "owner@example.COM", next_path="/console/members")
    assert r.status_code == 303 and r.headers["location"] == "/console/members"
    cookie = r.headers["set-cookie"]
    assert f"{CONSOLE_COOKIE}=" in cookie and "HttpOnly" in cookie
    # Path=/: the till page (/till) and its API calls share the session.
    assert "SameSite=lax" in cookie and "Path=/;" in cookie
    assert (await client.get("/console/members", headers=HTML)).status_code == 200


@pytest.mark.parametrize("next_path", ["//evil.example/console/x", "https://evil.example",
                                       "/console/login", "/m", "/console/..\\x"])
async def test_sign_in_never_redirects_off_the_console(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        next_path: str) -> None:
    shop = await factory.merchant()
    await add_user(services, shop, "owner@example.com")
    r = await login(client, "owner@example.com", next_path=next_path)
    assert r.status_code == 303 and r.headers["location"] == "/console/campaigns"


async def test_wrong_password_and_unknown_email_read_the_same(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await add_user(services, shop, "owner@example.com")
    wrong = await login(client, "owner@example.com", "not the password")
    unknown = await login(client, "nobody@example.com", PASSWORD)
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert "邮箱或密码不正确" in r.text
        assert CONSOLE_COOKIE not in r.headers.get("set-cookie", "")


async def test_logout_ends_the_session_everywhere(shop: Console) -> None:
    stolen = shop.client.cookies.get(CONSOLE_COOKIE)
    assert stolen
    r = await shop.post("/console/logout")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    transport = shop.client._transport  # a second browser holding a copy of the cookie
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 cookies={CONSOLE_COOKIE: stolen}) as other:
        r = await other.get("/console/coupons", headers=HTML)
    assert r.status_code == 303 and "/console/login" in r.headers["location"]


async def test_failed_logins_lock_the_email_then_the_address(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        monkeypatch: pytest.MonkeyPatch) -> None:
    shop = await factory.merchant()
    await add_user(services, shop, "owner@example.com")
    await add_user(services, shop, "staff@example.com")
    for _ in range(throttle.CONSOLE_LOGIN_FAILURES_PER_EMAIL):
        assert (await login(client, "owner@example.com", "guess")).status_code == 401
    # Locked: even the right password is refused, with the same answer as a wrong one.
    locked = await login(client, "owner@example.com")
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= throttle.CONSOLE_LOGIN_WINDOW_SECONDS
    assert "登录尝试次数过多" in locked.text
    assert CONSOLE_COOKIE not in locked.headers.get("set-cookie", "")
    # Another email is not locked by it...
    assert (await login(client, "staff@example.com")).status_code == 303
    client.cookies.clear()
    # ...until the address itself has tried too often.
    monkeypatch.setattr(throttle, "CONSOLE_LOGIN_ATTEMPTS_PER_IP", 7)  # 8th attempt
    r = await login(client, "staff@example.com")
    assert r.status_code == 429
    # A success clears the email's failures (after its window, the count starts over).
    await services.redis.flushdb()
    assert (await login(client, "owner@example.com")).status_code == 303
    assert await services.redis.keys("console:login:email:*") == []


async def _targets(shop: Console, factory: Factory, services: Services) -> dict[str, str]:
    """One object of each kind the console's routes name, owned by ``shop``."""
    template = await factory.template(shop.merchant, stock=50)
    campaign = await factory.campaign(shop.merchant, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": template["id"],
         "quantity": 10, "weight": 1},
        {"name": "谢谢参与", "kind": "nothing", "weight": 3}], publish=False)
    member = await factory.member(shop.merchant, phone="13800000001", name="小王")
    cashier = await add_user(services, shop.merchant, "cashier@shiguang.example",
                             role="cashier")
    key_id = await services.pool.fetchval("SELECT id FROM api_keys WHERE merchant_id = $1",
                                          shop.merchant.id)
    reward = await factory.client.post("/api/v1/rewards", headers=shop.merchant.headers, json={
        "coupon_template_id": template["id"], "cost_points": 10, "stock": 5})
    webhook = await factory.client.post("/api/v1/webhooks", headers=shop.merchant.headers,
                                        json={"url": "https://93.184.215.14/hooks",
                                              "events": ["order.paid"]})
    assert reward.status_code == 201 and webhook.status_code == 201, webhook.text
    order = await factory.client.post("/api/v1/orders", headers=shop.merchant.headers, json={
        "id": "ord-access-1", "member_id": member.id, "amount": 1000})
    assert order.status_code == 201, order.text
    # A withdrawal waiting to be paid (written directly: the member need not have earned it
    # for the console's routes to be tried on it).
    await services.pool.execute(
        """INSERT INTO commission_withdrawals (id, merchant_id, member_id, amount, status,
                                               created_at)
           VALUES ('wdr_ACCESS1', $1, $2, 500, 'requested', now())""",
        shop.merchant.id, member.id)
    send = await factory.client.post("/api/v1/sends", headers=shop.merchant.headers, json={
        "name": "唤醒", "coupon_template_id": template["id"]})
    assert send.status_code == 202, send.text
    upload = await factory.client.post("/api/v1/member-imports", content=b"external_id\nA\n",
                                       headers={**shop.merchant.headers,
                                                "Content-Type": "text/csv"})
    assert upload.status_code == 202, upload.text
    return {"template_id": template["id"], "campaign_id": campaign["id"],
            "member_id": member.id, "user_id": cashier, "key_id": key_id,
            "order_id": "ord-access-1", "withdrawal_id": "wdr_ACCESS1",
            "send_id": send.json()["id"], "file": "phone.png", "import_id": upload.json()["id"],
            "reward_id": reward.json()["id"],
            "webhook_id": webhook.json()["id"],
            "delivery_id": await services.pool.fetchval(
                "SELECT id FROM webhook_deliveries WHERE merchant_id = $1", shop.merchant.id)}


def _console_routes(app: Any, method: str) -> list[str]:
    return sorted({r.path for r in app.routes if isinstance(r, Route)
                   and r.path.startswith("/console") and method in (r.methods or ())})


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


async def _snapshot(services: Services) -> list[Any]:
    rows = []
    for table in ("coupon_templates", "campaigns", "campaign_prizes", "referral_programs",
                  "members", "merchant_users", "stores", "api_keys", "orders",
                  "order_refunds", "commission_withdrawals", "referral_bindings"):
        rows.append([dict(r) for r in await services.pool.fetch(
            f"SELECT * FROM {table} ORDER BY 1")])
    return rows


async def test_every_state_change_needs_the_csrf_token(
        app: Any, shop: Console, factory: Factory, services: Services) -> None:
    ids = await _targets(shop, factory, services)
    posts = _console_routes(app, "POST")
    assert len(posts) >= 11  # sign-in and out, coupons, campaigns, referral settings
    before = await _snapshot(services)
    form = {"name": "改名", "delta": "5", "hold_days": "3", "level-1": "10", "enabled": "on",
            "game": "wheel", "prize-0-kind": "nothing", "prize-0-weight": "1",
            "email": shop.email, "password": PASSWORD}
    for path in posts:
        url = _fill(path, ids)
        missing = await shop.post(url, form, token=False)
        assert missing.status_code == 403, url
        assert 'data-error-page="403"' in missing.text and "页面已过期" in missing.text
        forged = await shop.post(url, {**form, "csrf_token": "0" * 64}, token=False)
        assert forged.status_code == 403, url
        header = await shop.client.post(url, data=form, headers={"X-CSRF-Token": "nope"})
        assert header.status_code == 403 and header.json()["error"]["code"] == "csrf_failed"
    # A token minted for another browser does not pass either.
    async with httpx.AsyncClient(transport=shop.client._transport,
                                 base_url="http://testserver") as other:
        theirs = csrf_token((await other.get("/console/login", headers=HTML)).text)
    r = await shop.post(f"/console/campaigns/{ids['campaign_id']}/publish",
                        {"csrf_token": theirs}, token=False)
    assert r.status_code == 403
    assert await _snapshot(services) == before
    assert (await shop.get("/console/coupons")).status_code == 200  # still signed in


async def test_another_merchants_objects_are_not_found(
        app: Any, shop: Console, rival: Console, factory: Factory,
        services: Services) -> None:
    ids = await _targets(shop, factory, services)
    before = await _snapshot(services)
    gets = [p for p in _console_routes(app, "GET") if "{" in p]
    assert len(gets) >= 9
    for path in gets:
        r = await rival.get(_fill(path, ids))
        assert r.status_code == 404, path
        assert 'data-error-page="404"' in r.text
    for path in _console_routes(app, "POST"):
        if "{" in path:
            r = await rival.post(_fill(path, ids), {"name": "抢走", "delta": "5"})
            assert r.status_code == 404, path
    for url in (f"/console/exports/draws.csv?campaign_id={ids['campaign_id']}",
                f"/console/exports/coupons.csv?template_id={ids['template_id']}",
                f"/console/campaigns/new?from={ids['campaign_id']}"):
        assert (await rival.get(url)).status_code == 404, url
    # Their lists do not show it either.
    for path in ("/console/coupons", "/console/campaigns", "/console/members?q=13800000001"):
        page = (await rival.get(path)).text
        assert not any(value in page for value in ids.values()), path
    assert await _snapshot(services) == before
    # While the owner reaches all of it.
    for path in gets:
        assert (await shop.get(_fill(path, ids))).status_code == 200, path


async def test_a_new_merchant_is_told_where_to_start(shop: Console) -> None:
    coupons = await shop.get("/console/coupons")
    assert coupons.status_code == 200
    assert "还没有优惠券" in coupons.text and 'href="/console/coupons/new"' in coupons.text
    campaigns = await shop.get("/console/campaigns")
    assert campaigns.status_code == 200
    assert "还没有活动" in campaigns.text and 'href="/console/campaigns/new"' in campaigns.text
