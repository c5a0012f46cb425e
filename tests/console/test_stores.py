"""The owner's store page: the stores by name with their staff, adding one; a name the
merchant already uses is a form error (store_name_taken), not a second store."""

from __future__ import annotations

import httpx

from engagement.kit.state import Services
from tests.console.helpers import Console, add_user


async def _stores(services: Services, merchant_id: str) -> list[str]:
    return [r["name"] for r in await services.pool.fetch(
        "SELECT name FROM stores WHERE merchant_id = $1 ORDER BY name", merchant_id)]


async def test_an_owner_adds_stores_and_sees_them_listed(
        shop: Console, rival: Console, client: httpx.AsyncClient,
        services: Services) -> None:
    empty = await shop.get("/console/stores")
    assert empty.status_code == 200 and "data-stores-empty" in empty.text
    assert "还没有门店" in empty.text
    r = await shop.post("/console/stores", {"name": "  人民路店 "})
    assert r.status_code == 303 and r.headers["location"] == "/console/stores?notice=store_created"
    page = await shop.get(r.headers["location"])
    assert "门店已添加" in page.text and "data-stores-empty" not in page.text
    assert '<td class="name">人民路店</td>' in page.text
    # The API sees the same store; a cashier of it counts on the page.
    listed = await client.get("/api/v1/stores", headers=shop.merchant.headers)
    store = listed.json()["items"][0]
    assert store["name"] == "人民路店"
    await add_user(services, shop.merchant, "c@shiguang.example", role="cashier",
                   store_id=store["id"])
    page = await shop.get("/console/stores")
    assert f'<tr data-store-id="{store["id"]}"><td class="name">人民路店</td>' \
           '<td class="num">1</td>' in page.text
    # Another merchant may use the same name; their page does not show ours.
    assert (await rival.post("/console/stores", {"name": "人民路店"})).status_code == 303
    assert store["id"] not in (await rival.get("/console/stores")).text


async def test_a_taken_or_missing_name_is_a_form_error(shop: Console,
                                                       services: Services) -> None:
    assert (await shop.post("/console/stores", {"name": "人民路店"})).status_code == 303
    taken = await shop.post("/console/stores", {"name": "人民路店"})
    assert taken.status_code == 409
    assert 'data-error-for="name"' in taken.text and "已经有一家同名的门店了" in taken.text
    assert 'value="人民路店"' in taken.text  # what was typed stays in the form
    for name, message in (("", "请填写此项"), ("店" * 121, "数值太大"),
                          ("人民\x00路", "含有无法识别的字符")):
        r = await shop.post("/console/stores", {"name": name})
        assert r.status_code == 422 and message in r.text, name
    assert await _stores(services, shop.merchant.id) == ["人民路店"]
