"""保底 (pity): after `after` loses in a row a member's next draw wins the named prize while
it has stock. The prize here has a weight of 1 against a billion, so without pity it would
practically never be won: every win below is pity's."""

from __future__ import annotations

import asyncio
from typing import Any

from engagement.kit.state import Services
from tests.factories import Factory, MerchantHandle

AFTER = 3
RARE = {"name": "保底好礼", "kind": "points", "points": 88, "weight": 1}
NOTHING = {"name": "谢谢参与", "kind": "nothing", "weight": 1_000_000_000}


async def _pity_campaign(factory: Factory, shop: MerchantHandle, quantity: int | None,
                         **body: Any) -> dict[str, Any]:
    return await factory.campaign(shop, [{**RARE, "quantity": quantity}, NOTHING],
                                  pity={"after": AFTER, "prize_index": 0}, **body)


async def test_every_fourth_draw_after_three_loses_wins_the_pity_prize(
        factory: Factory) -> None:
    shop = await factory.merchant()
    campaign = await _pity_campaign(factory, shop, quantity=None)
    prize = campaign["prizes"][0]["id"]
    assert campaign["pity"] == {"after": AFTER, "prize_id": prize}
    member = await factory.member(shop)
    seen = []
    for _ in range(2 * (AFTER + 1)):
        body = (await factory.draw(member, campaign["id"])).json()
        seen.append((body["outcome"], body["pity"]))
    lose, pity_win = ("lose", False), ("win", True)
    assert seen == [lose, lose, lose, pity_win, lose, lose, lose, pity_win]


async def test_pity_never_gives_more_than_the_prizes_quantity_under_concurrency(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    quantity = 5
    campaign = await _pity_campaign(factory, shop, quantity=quantity)
    cid, prize = campaign["id"], campaign["prizes"][0]["id"]
    members = await factory.members_bulk(shop, 10)

    async def play(member: Any) -> list[dict[str, Any]]:
        # Each member fires all eight draws at once.
        rs = await asyncio.gather(*(factory.draw(member, cid) for _ in range(8)))
        assert all(r.status_code == 201 for r in rs), [r.text for r in rs]
        return [r.json() for r in rs]

    results = [d for ds in await asyncio.gather(*(play(m) for m in members)) for d in ds]
    wins = [d for d in results if d["outcome"] == "win"]
    # Ten members reach a fourth draw twice each: twenty pity draws for five prizes.
    assert len(wins) == quantity
    assert all(d["pity"] and d["prize"]["id"] == prize for d in wins)
    recorded = await services.pool.fetchval(
        "SELECT count(*) FROM draws WHERE campaign_id = $1 AND outcome = 'win'", cid)
    assert recorded == quantity
    stats = (await factory.client.get(f"/api/v1/campaigns/{cid}/stats",
                                      headers=shop.headers)).json()
    assert stats["wins"] == {prize: quantity}
    # Once it is gone, the run of loses goes on: the next draw is a lose.
    late = await factory.member(shop)
    outcomes = [(await factory.draw(late, cid)).json()["outcome"] for _ in range(AFTER + 1)]
    assert outcomes == ["lose"] * (AFTER + 1)


async def test_the_run_of_loses_survives_redis_losing_its_data(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    campaign = await _pity_campaign(factory, shop, quantity=None)
    member = await factory.member(shop)
    for _ in range(AFTER - 1):
        assert (await factory.draw(member, campaign["id"])).json()["outcome"] == "lose"
    await services.redis.flushdb()  # this test's own Redis database: all hot state gone
    third = (await factory.draw(member, campaign["id"])).json()
    fourth = (await factory.draw(member, campaign["id"])).json()
    assert (third["outcome"], fourth["outcome"], fourth["pity"]) == ("lose", "win", True)


async def test_pity_is_checked_at_create_and_frozen_once_live(factory: Factory) -> None:
    shop = await factory.merchant()
    for pity in ({"after": AFTER, "prize_index": 1}, {"after": AFTER, "prize_index": 2}):
        r = await factory.client.post("/api/v1/campaigns", headers=shop.headers, json={
            "name": "保底", "game": "wheel", "pity": pity,
            "prizes": [{**RARE, "quantity": 3}, NOTHING]})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_prize", r.text
    for after in (0, 1001):
        r = await factory.client.post("/api/v1/campaigns", headers=shop.headers, json={
            "name": "保底", "game": "wheel", "pity": {"after": after, "prize_index": 0},
            "prizes": [{**RARE, "quantity": 3}, NOTHING]})
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"

    draft = await _pity_campaign(factory, shop, quantity=3, publish=False)
    url = f"/api/v1/campaigns/{draft['id']}"
    prize, nothing = (p["id"] for p in draft["prizes"])
    r = await factory.client.patch(url, json={"pity": {"after": 9, "prize_id": nothing}},
                                   headers=shop.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_prize"
    r = await factory.client.patch(url, json={"pity": {"after": 9, "prize_id": prize}},
                                   headers=shop.headers)
    assert r.status_code == 200 and r.json()["pity"] == {"after": 9, "prize_id": prize}
    r = await factory.client.patch(url, json={"remove_pity": True}, headers=shop.headers)
    assert r.status_code == 200 and r.json()["pity"] is None
    r = await factory.client.patch(url, json={"pity": {"after": AFTER, "prize_id": prize}},
                                   headers=shop.headers)
    assert r.status_code == 200

    live = (await factory.client.post(f"{url}/publish", headers=shop.headers)).json()
    for change in ({"pity": {"after": AFTER + 1, "prize_id": prize}}, {"remove_pity": True}):
        r = await factory.client.patch(url, json=change, headers=shop.headers)
        assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_live_locked"
    r = await factory.client.patch(url, json={"pity": live["pity"]}, headers=shop.headers)
    assert r.status_code == 200  # the same pity again is no change
    got = (await factory.client.get(url, headers=shop.headers)).json()
    assert got["pity"] == {"after": AFTER, "prize_id": prize}
