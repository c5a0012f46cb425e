"""The game pages and the member home, over HTTP (the browser tests drive them for real)."""

from __future__ import annotations

import re

import httpx

from engagement.kit.db import transaction
from engagement.kit.state import Services
from tests.factories import Factory, MemberHandle, MerchantHandle

HTML = {"Accept": "text/html"}


async def _sign_in(client: httpx.AsyncClient, member: MemberHandle, next_path: str) -> None:
    r = await client.get(f"/m/enter?token={member.token}&next={next_path}")
    assert r.status_code == 303 and r.headers["location"] == next_path


def _csrf(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert found
    return found.group(1)


async def _wheel(factory: Factory, shop: MerchantHandle, **body: object) -> dict[str, object]:
    tpl = await factory.template(shop)
    return await factory.campaign(shop, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 5,
         "weight": 1}], **body)


async def test_play_url_serves_the_game_with_hooks_odds_and_a_strict_policy(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    campaign = await _wheel(factory, shop, limits={"per_member_per_day": 2})
    assert campaign["play_url"] == f"http://testserver/play/{campaign['id']}"
    member = await factory.member(shop)
    await _sign_in(client, member, f"/play/{campaign['id']}")
    r = await client.get(f"/play/{campaign['id']}")
    assert r.status_code == 200
    page = r.text
    assert 'data-action="play"' in page and "data-odds" in page and 'id="result"' in page
    prize = campaign["prizes"][0]  # type: ignore[index]
    assert f'data-prize-id="{prize["id"]}" data-probability="1.0"' in page
    assert "今日还可参与 2 次" in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "a page may not load other hosts"
    policy = r.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy
    assert r.headers["cache-control"] == "private, no-store"


async def test_drafts_are_not_shown_and_visitors_are_sent_to_join(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    draft = await _wheel(factory, shop, publish=False)
    r = await client.get(f"/play/{draft['id']}", headers=HTML)
    assert r.status_code == 404 and "页面不存在" in r.text
    live = await _wheel(factory, shop)
    r = await client.get(f"/play/{live['id']}")
    join = f'href="/j/{shop.slug}?next=%2Fplay%2F{live["id"]}"'
    assert r.status_code == 200 and join in r.text and 'data-action="play"' in r.text


async def test_the_page_speaks_english_on_request_and_remembers_it(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    campaign = await _wheel(factory, shop)
    r = await client.get(f"/play/{campaign['id']}?lang=en")
    assert '<html lang="en">' in r.text and "Prizes and odds" in r.text
    assert r.cookies.get("eng_lang") == "en"
    r = await client.get(f"/play/{campaign['id']}")
    assert "Prizes and odds" in r.text
    r = await client.get(f"/play/{campaign['id']}?lang=zh-CN")
    assert "奖品与中奖概率" in r.text


async def test_brand_colour_and_logo_come_from_the_merchant_settings(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    campaign = await _wheel(factory, shop)
    async with transaction(services.pool) as conn:
        await conn.execute(
            """UPDATE merchants SET settings = '{"brand_color": "#0A7D5A",
                 "logo_url": "https://cdn.example/logo.png"}'::jsonb WHERE id = $1""", shop.id)
    page = (await client.get(f"/play/{campaign['id']}")).text
    assert "--brand: #0a7d5a" in page
    assert "cdn.example" not in page  # a logo on another host would be a request elsewhere
    async with transaction(services.pool) as conn:
        await conn.execute("""UPDATE merchants SET settings = '{"brand_color": "red",
                 "logo_url": "/static/img/favicon.svg"}'::jsonb WHERE id = $1""", shop.id)
    page = (await client.get(f"/play/{campaign['id']}")).text
    assert "--brand: #e4393c" in page and 'src="/static/img/favicon.svg"' in page


async def test_cookie_draws_need_the_csrf_token_and_bearer_draws_do_not(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    campaign = await _wheel(factory, shop)
    member = await factory.member(shop)
    await _sign_in(client, member, f"/play/{campaign['id']}")
    token = _csrf((await client.get(f"/play/{campaign['id']}")).text)
    url = f"/api/v1/campaigns/{campaign['id']}/draws"
    r = await client.post(url)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = await client.post(url, headers={"X-CSRF-Token": token, "Idempotency-Key": "tap-1"})
    assert r.status_code == 201, r.text
    again = await client.post(url, headers={"X-CSRF-Token": token, "Idempotency-Key": "tap-1"})
    assert again.json()["id"] == r.json()["id"]  # a retried tap replays, it does not draw
    bearer = await factory.draw(member, str(campaign["id"]))
    assert bearer.status_code == 201


async def test_the_member_home_lists_games_coupons_and_draws(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    campaign = await _wheel(factory, shop, name="周年庆大转盘")
    member = await factory.member(shop, phone="13800000009")
    assert (await factory.draw(member, str(campaign["id"]))).status_code == 201
    await _sign_in(client, member, "/m")
    page = (await client.get("/m")).text
    assert "周年庆大转盘" in page and f'href="/play/{campaign["id"]}"' in page
    assert "抽中 10元券" in page
    assert "138****0009" in page
