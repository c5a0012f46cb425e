"""The owner's settings page: the shop's name, slug and time zone, and its API keys: a new
key is shown once and works; a revoked key is refused (401) from its very next request."""

from __future__ import annotations

import re

import httpx

from engagement.kit.state import Services
from tests.console.helpers import Console


async def _keys(services: Services, merchant_id: str) -> list[dict[str, object]]:
    return [dict(r) for r in await services.pool.fetch(
        "SELECT id, prefix, revoked_at FROM api_keys WHERE merchant_id = $1 ORDER BY id",
        merchant_id)]


async def test_the_settings_page_shows_the_shop_and_its_keys(shop: Console,
                                                              services: Services) -> None:
    page = await shop.get("/console/settings")
    assert page.status_code == 200
    assert '<dd data-merchant-name>拾光咖啡</dd>' in page.text
    assert f'data-merchant-slug>{shop.merchant.slug}</dd>' in page.text
    assert '<dd data-merchant-zone>Asia/Shanghai</dd>' in page.text
    [key] = await _keys(services, shop.merchant.id)
    assert f'data-key-prefix="{key["prefix"]}"' in page.text
    assert shop.merchant.api_key[:7] == key["prefix"]
    assert shop.merchant.api_key not in page.text  # only the first characters, ever
    english = await shop.client.get("/console/settings?lang=en",
                                    headers={"Accept": "text/html"})
    assert "API keys" in english.text and "Shop details" in english.text


async def test_a_new_key_is_shown_once_and_a_revoked_key_is_refused_at_once(
        shop: Console, rival: Console, client: httpx.AsyncClient,
        services: Services) -> None:
    before = await _keys(services, shop.merchant.id)
    for bad in ("", "x" * 41, "收银\x00系统"):
        r = await shop.post("/console/settings/api-keys", {"name": bad})
        assert r.status_code == 422 and 'id="key_name"' in r.text, bad
        assert "data-new-key" not in r.text
    assert await _keys(services, shop.merchant.id) == before  # nothing was made
    r = await shop.post("/console/settings/api-keys", {"name": "收银系统"})
    assert r.status_code == 200
    assert "<dd data-key-name>收银系统</dd>" in r.text
    found = re.search(r'value="(ek_[^"]+)" readonly data-new-key', r.text)
    assert found and "data-copy=\"#new-key\"" in r.text
    new_key = found.group(1)
    page = await shop.get("/console/settings")
    assert new_key not in page.text and new_key[:7] in page.text
    assert "<td data-key-name>收银系统</td>" in page.text
    assert "<td data-key-name>未命名</td>" in page.text  # the key from before names
    headers = {"Authorization": f"Bearer {new_key}"}
    assert (await client.get("/api/v1/stores", headers=headers)).status_code == 200
    new_id = next(k["id"] for k in await _keys(services, shop.merchant.id)
                  if k["prefix"] == new_key[:7])
    # Another merchant cannot revoke it.
    r = await rival.post(f"/console/settings/api-keys/{new_id}/revoke")
    assert r.status_code == 404
    assert (await client.get("/api/v1/stores", headers=headers)).status_code == 200
    r = await shop.post(f"/console/settings/api-keys/{new_id}/revoke")
    assert r.status_code == 303
    assert r.headers["location"] == "/console/settings?notice=key_revoked"
    # Its very next request: refused, on every route; the other key still works.
    r = await client.get("/api/v1/stores", headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = await client.post("/api/v1/members", json={"external_id": "x"}, headers=headers)
    assert r.status_code == 401
    ok = await client.get("/api/v1/stores", headers=shop.merchant.headers)
    assert ok.status_code == 200
    page = await shop.get(r"/console/settings?notice=key_revoked")
    assert "API 密钥已停用" in page.text
    assert re.search(rf'data-key-id="{new_id}"[^>]*data-revoked', page.text)
    # Revoking again changes nothing (the first time stays).
    before = await _keys(services, shop.merchant.id)
    assert (await shop.post(f"/console/settings/api-keys/{new_id}/revoke")).status_code == 303
    assert await _keys(services, shop.merchant.id) == before


async def test_with_every_key_revoked_the_page_says_so(shop: Console,
                                                       services: Services) -> None:
    [key] = await _keys(services, shop.merchant.id)
    assert (await shop.post(f"/console/settings/api-keys/{key['id']}/revoke")).status_code == 303
    page = await shop.get("/console/settings")
    assert "data-no-active-key" in page.text and "没有使用中的密钥" in page.text
    assert (await shop.post("/console/settings/api-keys/nope/revoke")).status_code == 404
