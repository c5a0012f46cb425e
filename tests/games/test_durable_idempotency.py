"""A draw's Idempotency-Key outlives Redis: after Redis loses its data (FLUSHDB, as a
restarted Redis without persistence), the same key answers with the same draw and draws
nothing again, charging no second entry cost."""

from __future__ import annotations

import asyncio

from engagement.kit.state import Services
from games.draw.protocol import DrawKeys
from tests.factories import Factory


async def _ledger(services: Services, member_id: str) -> int:
    return int(await services.pool.fetchval(
        "SELECT coalesce(sum(delta), 0) FROM points_ledger WHERE member_id = $1", member_id))


async def test_the_same_key_after_redis_lost_everything_is_the_same_draw(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=100)
    campaign = await factory.campaign(shop, [
        {"name": "5元券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 100,
         "weight": 1},
        {"name": "谢谢参与", "kind": "nothing", "weight": 1}], entry_cost_points=10)
    member = await factory.member(shop)
    await services.pool.execute("UPDATE members SET points = 100 WHERE id = $1", member.id)
    first = await factory.draw(member, campaign["id"], key="tap-1")
    assert first.status_code == 201, first.text

    await services.redis.flushdb()
    await services.redis.script_flush()
    # Several replays at once, as a phone retrying on a bad network would send them.
    replays = await asyncio.gather(*[factory.draw(member, campaign["id"], key="tap-1")
                                     for _ in range(5)])
    assert {r.status_code for r in replays} == {201}
    assert all(r.json() == first.json() for r in replays)
    pool = services.pool
    assert await pool.fetchval("SELECT count(*) FROM draws") == 1
    assert await _ledger(services, member.id) == -10
    assert await pool.fetchval("SELECT points FROM members WHERE id = $1", member.id) == 90
    stats = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}/stats",
                                      headers=shop.headers)).json()
    assert stats["draws"] == 1 and stats["players"] == 1

    # The key with another body is still refused; a new key still draws.
    other = await factory.client.post(
        f"/api/v1/campaigns/{campaign['id']}/draws", json={"client_seed": "x"},
        headers={**member.headers, "Idempotency-Key": "tap-1"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    fresh = await factory.draw(member, campaign["id"], key="tap-2")
    assert fresh.status_code == 201 and fresh.json()["id"] != first.json()["id"]
    assert await pool.fetchval("SELECT count(*) FROM draws") == 2
    assert await _ledger(services, member.id) == -20


async def test_a_lost_key_record_alone_is_caught_by_postgresql(
        factory: Factory, services: Services) -> None:
    """The campaign's state survives but the key's record is gone (evicted, say): the
    script draws, PostgreSQL's claim of the key refuses the second row, and Redis is undone."""
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=10)
    campaign = await factory.campaign(shop, [
        {"name": "5元券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 10,
         "weight": 1}], entry_cost_points=5)
    member = await factory.member(shop)
    await services.pool.execute("UPDATE members SET points = 50 WHERE id = $1", member.id)
    first = await factory.draw(member, campaign["id"], key="tap-1")
    assert first.status_code == 201 and first.json()["outcome"] == "win"
    before = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}",
                                       headers=shop.headers)).json()
    day = services.clock.now().date()
    for key in ("tap-1", "tap-2"):  # the member's first draw and a neighbour key
        await services.redis.delete(DrawKeys.of(campaign["id"], member.id, day, key).idempotency)
    again = await factory.draw(member, campaign["id"], key="tap-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert await services.pool.fetchval("SELECT count(*) FROM draws") == 1
    assert await _ledger(services, member.id) == -5
    after = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}",
                                      headers=shop.headers)).json()
    assert after["prizes"][0]["remaining"] == before["prizes"][0]["remaining"] == 9
    stats = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}/stats",
                                      headers=shop.headers)).json()
    assert stats["draws"] == 1
    # The replay put the record back: the next replay is answered by Redis alone.
    assert (await factory.draw(member, campaign["id"], key="tap-1")).json() == first.json()
