"""九宫格 (grid), 老虎机 (slot) and 摇一摇 (shake): campaigns of them are created, published
and drawn like any other; their pages carry the same hooks and lay every prize out where the
animation can stop on it; the API, the catalog and the database agree on the games."""

from __future__ import annotations

import json
import re
from typing import Any, get_args

import asyncpg
import httpx
import pytest

from engagement.kit.state import Services
from games.campaigns.catalog import GAME_KINDS, TEMPLATES
from games.campaigns.schemas import Game
from tests.factories import Factory, MemberHandle, MerchantHandle

NEW_GAMES = ["grid", "slot", "shake"]


def _coupon(tpl: dict[str, Any], name: str, quantity: int = 20,
            weight: int = 1) -> dict[str, Any]:
    return {"name": name, "kind": "coupon", "coupon_template_id": tpl["id"],
            "quantity": quantity, "weight": weight}


async def _page_config(client: httpx.AsyncClient, member: MemberHandle,
                       campaign_id: str) -> tuple[str, dict[str, Any]]:
    r = await client.get(f"/m/enter?token={member.token}&next=/play/{campaign_id}")
    assert r.status_code == 303
    r = await client.get(f"/play/{campaign_id}")
    assert r.status_code == 200
    found = re.search(r'<script type="application/json" id="play-config">(.*?)</script>',
                      r.text, re.S)
    assert found
    return r.text, json.loads(found.group(1))


def test_the_api_the_catalog_and_the_pages_list_the_same_games() -> None:
    assert set(get_args(Game)) == {g.value for g in GAME_KINDS} == set(TEMPLATES)
    assert {"grid", "slot", "shake"} <= set(TEMPLATES)


async def test_the_database_knows_every_game_and_refuses_others(services: Services) -> None:
    definition = await services.pool.fetchval(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conname = 'campaigns_game_known'")
    for game in get_args(Game):
        assert f"'{game}'" in definition
    with pytest.raises(asyncpg.CheckViolationError, match="campaigns_game_known"):
        await services.pool.execute(
            "INSERT INTO campaigns (id, merchant_id, name, game) VALUES ('c', 'm', 'x', 'dice')")


@pytest.mark.parametrize("game", NEW_GAMES)
async def test_a_campaign_of_the_game_is_created_published_and_drawn(
        factory: Factory, client: httpx.AsyncClient, game: str) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=50)
    draft = await factory.campaign(shop, [_coupon(tpl, "10元券", 20, 1)], game=game,
                                   name=f"测试{game}", publish=False,
                                   limits={"per_member_per_day": 2})
    assert (draft["game"], draft["status"]) == (game, "draft")
    r = await client.post(f"/api/v1/campaigns/{draft['id']}/publish", headers=shop.headers)
    assert r.status_code == 200 and r.json()["status"] == "active"
    member = await factory.member(shop)
    first = await factory.draw(member, draft["id"], key=f"{game}-1")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["outcome"] == "win" and body["prize"]["name"] == "10元券"
    assert body["remaining"]["today"] == 1
    assert (await factory.draw(member, draft["id"], key=f"{game}-1")).json() == body
    assert (await factory.draw(member, draft["id"])).status_code == 201
    refused = await factory.draw(member, draft["id"])
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "draw_limit_reached"
    got = (await client.get(f"/api/v1/campaigns/{draft['id']}", headers=shop.headers)).json()
    assert got["game"] == game and got["prizes"][0]["remaining"] == 18


@pytest.mark.parametrize("game", NEW_GAMES)
async def test_the_game_page_has_the_hooks_the_odds_and_the_rules(
        factory: Factory, client: httpx.AsyncClient, game: str) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop)
    campaign = await factory.campaign(shop, [
        _coupon(tpl, "10元代金券", 5, 1),
        {"name": "88积分", "kind": "points", "points": 88, "quantity": None, "weight": 3}],
        game=game, limits={"per_member_per_day": 3})
    member = await factory.member(shop)
    page, config = await _page_config(client, member, campaign["id"])
    assert f"play--{game}" in page
    assert 'data-action="play"' in page and 'id="result"' in page and "data-odds" in page
    for prize in campaign["prizes"]:
        assert f'data-prize-id="{prize["id"]}" data-probability="{prize["probability"]}"' in page
    assert "活动规则" in page and "今日还可参与 3 次" in page
    assert config["game"] == game and config["canPlay"] is True
    assert not re.search(r'(src|href)="(https?:)?//', page)


async def _laid_out(factory: Factory, client: httpx.AsyncClient, shop: MerchantHandle,
                    game: str, prizes: list[dict[str, Any]]) -> tuple[list[str],
                                                                     list[dict[str, Any]]]:
    campaign = await factory.campaign(shop, prizes, game=game)
    member = await factory.member(shop)
    _, config = await _page_config(client, member, campaign["id"])
    return [p["id"] for p in campaign["prizes"]], config["segments"]


@pytest.mark.parametrize(("count", "ring"), [(3, 8), (8, 12), (11, 12), (12, 16)])
async def test_the_grid_has_a_cell_for_every_prize_and_for_no_prize(
        factory: Factory, client: httpx.AsyncClient, count: int, ring: int) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=1000)
    ids, cells = await _laid_out(factory, client, shop, "grid",
                                 [_coupon(tpl, f"{n}元券", 10) for n in range(count)])
    # Eight cells round the button (九宫格) while they suffice, then a bigger ring.
    assert len(cells) == ring
    assert set(ids) <= {c["id"] for c in cells}
    # No prize is "nothing": a cell for a draw whose prize ran out.
    assert any(c["kind"] == "nothing" and c["name"] == "谢谢参与" for c in cells)


async def test_the_slot_reels_carry_every_prize(
        factory: Factory, client: httpx.AsyncClient) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=1000)
    ids, symbols = await _laid_out(factory, client, shop, "slot", [
        _coupon(tpl, "10元券"), {"name": "谢谢参与", "kind": "nothing", "weight": 2}])
    assert len(symbols) >= 6 and {s["id"] for s in symbols} == set(ids)
    _, none = await _laid_out(factory, client, shop, "shake", [_coupon(tpl, "10元券")])
    assert none == []  # the shake page draws no prizes of its own
